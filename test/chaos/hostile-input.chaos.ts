import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RawRequest, type RawResponse, sendRaw } from "../helpers/http.js";
import { connect } from "../helpers/redis.js";
import { ADMIN_KEY, OPERATOR_KEY, type Stack, startStack, VIEWER_KEY } from "../helpers/stack.js";
import { report } from "./report.js";
import { type Operation, operations } from "./routes.js";

type Sent = RawRequest;
type Got = RawResponse;

/** Percent-encodes every byte (lone surrogates included, as UTF-8 replacement bytes). */
const pct = (s: string) => [...Buffer.from(s, "utf8")].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");

const PROTO_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "__defineGetter__"];
const deep = (n: number, leaf = "0") => `${"[".repeat(n)}${leaf}${"]".repeat(n)}`;
const deepObject = (n: number) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`;

/** Strings an attacker would try: traversal, prototype keys, control and odd unicode, sheer size. */
const hostileString = fc.oneof(
  fc.constantFrom(
    ...PROTO_KEYS,
    "../../../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "/etc/passwd",
    "....//....//",
    "%2e%2e%2f%2e%2e%2f",
    "\u0000",
    "a\u0000b",
    "\ud800",
    "\udfff\ud800",
    "\u202etxt.exe",
    "😀".repeat(40),
    "ǅ̸̡̢̧̛̗̘̙̜̝̞̟̠̣̤̥̦̩̪̫̬̭̮̯̰̱̲̳̹̺̻̼ͅ",
    "${jndi:ldap://x}",
    "'; DROP TABLE tasks; --",
    "*",
    "sy:*",
    "\r\nSet-Cookie: x=1",
    "x".repeat(70_000),
  ),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
);

/** JSON values of the wrong type and shape for any field. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.constantFrom(-1, 0, 1e308, -1e308, 2 ** 53 + 1, 0.5, true, false, null),
  fc.constant([]),
  fc.constant(Array.from({ length: 20_000 }, () => 0)),
  fc.constant({}),
  fc.dictionary(fc.constantFrom(...PROTO_KEYS), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Path segments: traversal, encodings, prototype keys, unicode, very long. */
const segment = fc.oneof(
  fc.constantFrom(
    ...PROTO_KEYS,
    "..",
    "%2e%2e",
    "..%2F..%2Fetc%2Fpasswd",
    "%2F",
    "%00",
    "%zz",
    "%E0%A4%A",
    "%F0%9F%98%80",
    "a%20b",
    "tsk_00000000000000000000000000",
    "run_0000",
    "*",
    "x".repeat(3_000),
  ),
  fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/),
  fc.string({ unit: "grapheme", maxLength: 10 }).map(encodeURIComponent),
);

/** A body that is one hostile thing: malformed, deep, huge, or a real request with one field poisoned. */
function hostileBody(
  spec: { body: Record<string, unknown>; poison: string[]; hostile?: Record<string, fc.Arbitrary<unknown>> } | undefined,
): fc.Arbitrary<string> {
  const shapes: fc.Arbitrary<string>[] = [
    fc.constantFrom(
      "{",
      "[",
      '{"a":}',
      "nul",
      "{'single':1}",
      '{"a":1,}',
      "\u0000",
      "\ufeff{}",
      '"string"',
      "12",
      "null",
      "[]",
      deep(5_000),
      deepObject(5_000),
      deep(200),
      deepObject(200),
      '{"__proto__":{"polluted":true}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      `{"a":"${"x".repeat(900_000)}"}`,
      `[${Array.from({ length: 150_000 }, () => "1").join(",")}]`,
      "x".repeat(1_200_000),
    ),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    fc.dictionary(hostileString, hostileValue, { maxKeys: 4 }).map((v) => JSON.stringify(v)),
  ];
  if (spec) {
    const template = spec.body;
    const fields = Object.keys(template);
    // One field poisoned (wrong type, hostile string, prototype object), the rest valid.
    if (spec.poison.length > 0)
      shapes.push(
        fc.tuple(fc.constantFrom(...spec.poison), hostileValue).map(([field, value]) => JSON.stringify({ ...template, [field]: value })),
      );
    for (const [field, values] of Object.entries(spec.hostile ?? {}))
      shapes.push(values.map((value) => JSON.stringify({ ...template, [field]: value })));
    shapes.push(
      // Valid fields plus a prototype-polluting or unknown key.
      fc
        .tuple(fc.constantFrom(...PROTO_KEYS, "extra"), fc.jsonValue({ maxDepth: 2 }))
        .map(([key, value]) => `${JSON.stringify(template).slice(0, -1)},${JSON.stringify(key)}:${JSON.stringify(value)}}`),
      // Valid fields, one nested absurdly deep.
      fc.constantFrom(...fields).map((field) => JSON.stringify({ ...template, [field]: "@@" }).replace('"@@"', deepObject(3_000))),
    );
  }
  return fc.oneof(...shapes);
}

/**
 * Real request bodies for the routes that take one, and the fields whose every hostile value is
 * invalid (free-text fields like a key's `name` or a task's `arguments` legitimately take any string or object).
 */
/** Lock paths that climb out of the project root or carry control characters: always refused. */
const traversal = fc.constantFrom(
  "../../etc/passwd",
  "..",
  "a/../../b",
  "/../x",
  "src/../../../x",
  "\u0000",
  "a\u0000b",
  "src/\u0007",
  "",
  "x".repeat(2_000),
);
const LOCK = { body: { path: "src/a.ts", ttl_ms: 1_000 }, poison: [], hostile: { path: traversal } };

const TEMPLATES: Record<string, { body: Record<string, unknown>; poison: string[]; hostile?: Record<string, fc.Arbitrary<unknown>> }> = {
  "POST /api/v1/participants/acquire_file_lock": LOCK,
  "POST /api/v1/participants/renew_file_lock": LOCK,
  "POST /api/v1/participants/release_file_lock": { body: { path: "src/a.ts" }, poison: [], hostile: { path: traversal } },
  "POST /api/v1/participants/register_agent": { body: { id: "fuzz-agent" }, poison: ["id"] },
  "POST /api/v1/participants/send_message": { body: { to: "fuzz-peer", kind: "note", subject: "s", body: "b" }, poison: ["to", "kind"] },
  "POST /api/v1/tasks": {
    body: { agent_name: "mock", tool_name: "echo", arguments: { text: "hi" }, priority: 1 },
    poison: ["agent_name", "tool_name"],
  },
  "POST /api/v1/agents": { body: { name: "fuzzed", config: { type: "mock" } }, poison: ["config"] },
  "POST /api/v1/keys": { body: { role: "viewer", name: "fuzzed" }, poison: ["role"] },
  "POST /api/v1/tools/execute": { body: { tool: "mock.echo", params: { text: "hi" } }, poison: ["tool"] },
  "POST /api/v1/tools/{agent}/{tool}/invoke": { body: { arguments: { text: "hi" } }, poison: [] },
  "POST /api/v1/workflows": {
    body: { name: "fuzzed", steps: [{ id: "a", agent: "mock", tool: "echo", arguments: {} }] },
    poison: ["steps"],
  },
  "POST /api/v1/workflows/{name}/runs": { body: { input: {} }, poison: [] },
};

/** Keys the fuzz uses; a participant agent's key is added once registered. */
const KEYS = [ADMIN_KEY, OPERATOR_KEY, OPERATOR_KEY, VIEWER_KEY];
/** Operations whose empty input is a valid request that changes the caller's own state (sent with a tenant key instead). */
const SELF_WITH_EMPTY_INPUT = /\/participants\/(deregister_agent|heartbeat|claim_task|read_messages)$/;
const auth = fc.constantFrom(...KEYS).chain(() => fc.constantFrom(...KEYS));

function restRequest(ops: Operation[]): fc.Arbitrary<Sent> {
  return fc
    .constantFrom(...ops)
    .chain((op) =>
      fc.record({
        op: fc.constant(op),
        params: fc.array(segment, { minLength: 4, maxLength: 4 }),
        query: fc.option(fc.tuple(fc.oneof(fc.constantFrom(...PROTO_KEYS, "limit", "status", "cursor", "a[]")), hostileString), {
          nil: undefined,
        }),
        body: op.method === "GET" || op.method === "DELETE" ? fc.constant(undefined) : hostileBody(TEMPLATES[`${op.method} ${op.path}`]),
        key: auth,
        contentType: fc.constantFrom(
          "application/json",
          "application/json",
          "application/yaml",
          "text/plain",
          "application/json; charset=utf-16",
        ),
      }),
    )
    .map(({ op, params, query, body, key: drawn, contentType }) => {
      const key = drawn.startsWith("syp_") && SELF_WITH_EMPTY_INPUT.test(op.path) ? OPERATOR_KEY : drawn;
      let i = 0;
      let path = op.path.replace(/\{[^}]+\}/g, () => params[i++ % params.length] as string);
      if (query) path += `?${pct(query[0])}=${pct(query[1])}`;
      return {
        method: op.method,
        path,
        headers: { authorization: `Bearer ${key}`, "content-type": contentType },
        body,
      };
    });
}

/** JSON-RPC bodies for /mcp: malformed, wrong types, hostile tool names and arguments, batches. */
function mcpBody(toolNames: string[]): fc.Arbitrary<string> {
  const id = fc.oneof(
    { weight: 6, arbitrary: fc.integer() },
    fc.string({ maxLength: 8 }),
    fc.constant(null),
    fc.constant({}),
    fc.constant([1]),
  );
  const call = fc
    .record({
      jsonrpc: fc.oneof({ weight: 8, arbitrary: fc.constant("2.0") }, fc.constant("1.0"), hostileValue),
      id,
      method: fc.oneof(
        fc.constantFrom("tools/call", "tools/call", "tools/list", "resources/read", "prompts/get", "initialize", "ping", "__proto__"),
        hostileString,
      ),
      params: fc.oneof(
        {
          weight: 4,
          arbitrary: fc.record({
            name: fc.oneof(fc.constantFrom(...toolNames), hostileString, hostileValue),
            arguments: fc.oneof(
              fc.dictionary(
                fc.oneof(hostileString, fc.constantFrom("agent_name", "tool_name", "task_id", "run_id", "path", "key")),
                hostileValue,
                {
                  maxKeys: 4,
                },
              ),
              hostileValue,
            ),
          }),
        },
        fc.record({ uri: hostileString }),
        hostileValue,
      ),
    })
    .map((m) => JSON.stringify(m));
  return fc.oneof(
    call,
    call,
    fc.array(call, { maxLength: 5 }).map((calls) => `[${calls.join(",")}]`),
    hostileBody(undefined),
    fc.constantFrom(
      `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"submit_task","arguments":${deepObject(4_000)}}}`,
      `[${Array.from({ length: 5_000 }, (_, k) => `{"jsonrpc":"2.0","id":${k},"method":"ping"}`).join(",")}]`,
    ),
  );
}

/** Whether an /mcp answer is a clean refusal: a JSON 4xx, a JSON-RPC error, or a tool result flagged isError. */
function mcpClean(got: Got): string | undefined {
  if (got.status >= 500) return `status ${got.status}`;
  if (got.status >= 400) return got.contentType.includes("json") ? undefined : `non-JSON ${got.status}`;
  if (got.status === 202 && got.text === "") return undefined; // a notification (no id)
  const payloads = got.contentType.includes("event-stream")
    ? got.text
        .split("\n")
        .filter((l) => l.startsWith("data: "))
        .map((l) => l.slice(6))
    : [got.text];
  for (const payload of payloads) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload);
    } catch {
      return `unparseable ${got.status}: ${payload.slice(0, 100)}`;
    }
    for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
      const m = message as { error?: { code?: unknown }; result?: { isError?: boolean } };
      if (m.error && typeof m.error.code === "number") continue;
      if (m.result) continue; // read-only results (lists, pings) and isError tool results; state is checked separately
      return `neither result nor error: ${payload.slice(0, 100)}`;
    }
  }
  return undefined;
}

const RUNS = Number(process.env.CHAOS_FUZZ_RUNS ?? 1_500);

describe("hostile input: every REST route and /mcp", () => {
  let stack: Stack;
  const redis = connect();

  /** Everything a request could create: jobs, agents, keys, workflows, runs, tenants' task indexes. */
  async function state(): Promise<string[]> {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await redis.scan(cursor, "MATCH", `${stack.prefix}:*`, "COUNT", 1_000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
    // Audit entries (every mutating call is audited, refused or not), rate-limit buckets and
    // worker liveness change by design; BullMQ's event stream records no state.
    const volatile = /:audit$|:rl:|:catalog|:events$|:meta$|:stalled-check$|:tenants$|:usage|:coordinator:/;
    const stable = keys.filter((k) => !volatile.test(k)).sort();
    const sizes = await Promise.all(
      stable.map(async (k) => {
        const type = await redis.type(k);
        const size =
          type === "hash"
            ? await redis.hlen(k)
            : type === "zset"
              ? await redis.zcard(k)
              : type === "list"
                ? await redis.llen(k)
                : type === "set"
                  ? await redis.scard(k)
                  : 1;
        return `${k}=${size}`;
      }),
    );
    return sizes;
  }

  beforeAll(async () => {
    stack = await startStack({ config: { agents: { mock: { type: "mock" } }, server: { body_limit_bytes: 1_048_576 } } });
    // Participant agents (issue 7): one to act as, one to message; their keys join the fuzz.
    for (const id of ["fuzz-self", "fuzz-peer"]) {
      const r = await stack.operator.post("/api/v1/participants/register_agent", { id });
      expect(r.status).toBe(200);
      if (id === "fuzz-self") KEYS.push(r.body.api_key, r.body.api_key, r.body.api_key);
    }
  });
  afterAll(async () => {
    await stack?.close();
    redis.disconnect();
  });

  it("REST: a JSON 4xx for every hostile request (never a 5xx or a crash), and no state change", async () => {
    const ops = (await operations(stack.url)).filter((o) => o.role !== null);
    // Read-only participant tools are POSTs that may answer 200, like GETs.
    const tools = (await stack.viewer.get("/api/v1/participants/tools")).body.tools as Array<{ name: string; read_only: boolean }>;
    const readOnly = new Set(tools.filter((t) => t.read_only).map((t) => `/api/v1/participants/${t.name}`));
    const before = await state();
    const violations: string[] = [];
    const outcomes: Record<number, number> = {};
    let fuzzed = 0;
    await fc.assert(
      fc.asyncProperty(restRequest(ops), async (req) => {
        fuzzed++;
        const got = await sendRaw(stack.url, req);
        const label = `${req.method} ${req.path.slice(0, 120)} [${(req.body ?? "").slice(0, 80)}] → ${got.status} ${got.text.slice(0, 160)}`;
        outcomes[got.status] = (outcomes[got.status] ?? 0) + 1;
        const isJsonError = got.contentType.includes("application/json") && /"error_code"/.test(got.text);
        // GETs of collections may answer 200 (a hostile query that is ignored is fine); nothing else may succeed.
        // 431 (headers too large) comes from Node's HTTP parser before any app code runs: a refusal, without a JSON body.
        const ok =
          ((req.method === "GET" || readOnly.has(req.path.split("?")[0] ?? "")) && got.status === 200) || got.status === 431
            ? true
            : got.status >= 400 && got.status < 500 && isJsonError;
        if (!ok || /\s+at .+\(|node_modules|\/work\//.test(got.text)) violations.push(label);
      }),
      { numRuns: RUNS },
    );
    const after = await state();
    const changed = after.filter((k) => !before.includes(k)).concat(before.filter((k) => !after.includes(k)));
    expect((await sendRaw(stack.url, { method: "GET", path: "/healthz", headers: {} })).status).toBe(200);
    report({
      scenario: "hostile input: REST routes",
      operations: fuzzed,
      inputs_fuzzed: fuzzed,
      violations: violations.length + changed.length,
      routes: ops.length,
      statuses: outcomes,
    });
    for (const v of [...violations.slice(0, 20), ...changed]) process.stdout.write(`violation: ${v}\n`);
    expect(violations.slice(0, 10)).toEqual([]);
    expect(changed).toEqual([]);
    // Absurd nesting in an otherwise valid submission is refused, not run (server.json_max_depth).
    const deepTask = await sendRaw(stack.url, {
      method: "POST",
      path: "/api/v1/tasks",
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, "content-type": "application/json" },
      body: `{"agent_name":"mock","tool_name":"echo","arguments":{"a":${deepObject(100)}}}`,
    });
    expect(deepTask.status).toBe(400);
    expect(await state()).toEqual(after);
    // The detector is live: a real submission does change state.
    await sendRaw(stack.url, {
      method: "POST",
      path: "/api/v1/tasks",
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ agent_name: "mock", tool_name: "echo", arguments: {} }),
    });
    expect(await state()).not.toEqual(after);
  });

  it("/mcp: JSON-RPC errors (or a JSON 4xx) for hostile bodies, never a 5xx, and no state change", async () => {
    const list = await sendRaw(stack.url, {
      method: "POST",
      path: "/mcp",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
    });
    // Orchestration tools only: an agent's own tool (`mock.echo`) legitimately runs with any arguments.
    const toolNames = [...list.text.matchAll(/"name":"([^"]+)"/g)].map((m) => m[1] as string).filter((n) => !n.includes("."));
    expect(toolNames).toContain("submit_task");
    const before = await state();
    const violations: string[] = [];
    const outcomes: Record<string, number> = {};
    let fuzzed = 0;
    await fc.assert(
      fc.asyncProperty(
        mcpBody(toolNames),
        auth,
        fc.constantFrom(
          "application/json, text/event-stream",
          "application/json, text/event-stream",
          "application/json, text/event-stream",
          "text/html",
        ),
        async (body, key, accept) => {
          fuzzed++;
          const got = await sendRaw(stack.url, {
            method: "POST",
            path: "/mcp",
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json", accept },
            body,
          });
          const problem = mcpClean(got);
          const kind =
            got.status >= 400
              ? `http_${got.status}`
              : /"error":\{"code"/.test(got.text)
                ? "jsonrpc_error"
                : /"isError":true/.test(got.text)
                  ? "tool_error"
                  : `ok_${got.status}`;
          outcomes[kind] = (outcomes[kind] ?? 0) + 1;
          if (problem) violations.push(`${body.slice(0, 160)} → ${problem}`);
        },
      ),
      { numRuns: Math.round(RUNS / 2) },
    );
    const after = await state();
    const changed = after.filter((k) => !before.includes(k)).concat(before.filter((k) => !after.includes(k)));
    expect((await sendRaw(stack.url, { method: "GET", path: "/healthz", headers: {} })).status).toBe(200);
    report({
      scenario: "hostile input: /mcp JSON-RPC",
      operations: fuzzed,
      inputs_fuzzed: fuzzed,
      violations: violations.length + changed.length,
      outcomes,
    });
    // The detector is live: a real submission through /mcp does change state.
    await sendRaw(stack.url, {
      method: "POST",
      path: "/mcp",
      headers: {
        authorization: `Bearer ${OPERATOR_KEY}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 9,
        method: "tools/call",
        params: { name: "submit_task", arguments: { agent_name: "mock", tool_name: "echo", arguments: {} } },
      }),
    });
    expect(await state()).not.toEqual(after);
    for (const v of violations.slice(0, 20)) process.stdout.write(`violation: ${v}\n`);
    for (const v of [...violations.slice(0, 20), ...changed]) process.stdout.write(`violation: ${v}\n`);
    expect(violations.slice(0, 10)).toEqual([]);
    expect(changed).toEqual([]);
  });
});
