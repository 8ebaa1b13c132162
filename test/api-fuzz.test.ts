import { Queue } from "bullmq";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RawRequest, sendRaw } from "./helpers/http.js";
import { connect } from "./helpers/redis.js";
import { OPERATOR_KEY, type Stack, startStack, VIEWER_KEY } from "./helpers/stack.js";

type Sent = RawRequest;

const printable = (max: number) => fc.stringMatching(new RegExp(`^[\\x20-\\x7e]{0,${max}}$`));
const segment = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/),
  fc.constantFrom("..", "%00", "%zz", "%2F", "tsk_00000000000000000000000000", "mock", "echo", "%E0%A4%A", "a%20b"),
);
const TOOLS = new Set(["echo", "sleep", "fail"]);

/** Bodies: random JSON, non-JSON text, and near-valid submissions with one thing wrong. */
const body = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  printable(60),
  fc.constantFrom("{", "[1,2]", "null", '"x"', '{"agent_name":', "\u0000", "{}", "x".repeat(1_100_000)),
  fc
    .record(
      {
        agent_name: fc.oneof(fc.constant("mock"), fc.string({ maxLength: 70 }), fc.integer()),
        capability: fc.oneof(fc.string({ maxLength: 70 }), fc.constant(null)),
        tool_name: fc.oneof(fc.string({ maxLength: 140 }), fc.constant(7)),
        arguments: fc.oneof(fc.jsonValue(), fc.constant([])),
        priority: fc.oneof(fc.integer(), fc.double(), fc.string()),
        timeout_ms: fc.oneof(fc.integer({ min: -10, max: 10 }), fc.string()),
        idempotency_key: fc.oneof(fc.string({ maxLength: 300 }), fc.integer()),
        tool: fc.oneof(fc.string({ maxLength: 40 }), fc.constant("mock.ghost")),
        params: fc.jsonValue(),
        name: fc.oneof(fc.string({ maxLength: 70 }), fc.constant("mock")),
        config: fc.jsonValue(),
        wait_ms: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.string()),
      },
      { requiredKeys: [] },
    )
    // Drop the few combinations that are valid requests.
    .filter(
      (b) =>
        !(typeof b.tool_name === "string" && TOOLS.has(b.tool_name)) &&
        !(typeof b.tool === "string" && b.tool.startsWith("mock.") && TOOLS.has(b.tool.slice(5))),
    )
    .map((b) => JSON.stringify(b)),
);

const path = fc.oneof(
  fc.array(segment, { minLength: 0, maxLength: 5 }).map((parts) => `/api/v1/${parts.join("/")}`),
  fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join("/")}`),
  segment.map((s) => `/api/v1/tasks/${s}`),
  segment.map((s) => `/api/v1/tasks/${s}/cancel`),
  segment.map((s) => `/api/v1/tasks/${s}/events`),
  segment.map((s) => `/api/v1/agents/${s}`),
  fc.tuple(segment, segment).map(([a, t]) => `/api/v1/tools/${a}/${t}`),
  fc.tuple(segment, segment).map(([a, t]) => `/api/v1/tools/${a}/${t}/invoke`),
  fc.constantFrom("/api/v1/tasks", "/api/v1/tools/execute", "/api/v1/agents", "/api/tasks"),
  fc.tuple(fc.stringMatching(/^[a-z_]{1,10}$/), printable(20)).map(([k, v]) => `/api/v1/tasks?${k}=${encodeURIComponent(v)}`),
  fc.tuple(fc.stringMatching(/^[a-z_]{1,10}$/), printable(20)).map(([k, v]) => `/api/v1/audit?${k}=${encodeURIComponent(v)}`),
);

const request_ = fc
  .record({
    method: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE"),
    path,
    auth: fc.constantFrom<"operator" | "viewer" | "bogus" | "none" | "basic">(
      "operator",
      "operator",
      "operator",
      "viewer",
      "bogus",
      "none",
      "basic",
    ),
    contentType: fc.oneof(
      fc.constantFrom("application/json", "application/json; charset=utf-16", "text/plain", "application/x-www-form-urlencoded"),
      printable(30),
    ),
    idempotencyKey: fc.option(printable(300), { nil: undefined }),
    extra: fc.dictionary(fc.stringMatching(/^x-[a-z-]{1,12}$/), printable(40), { maxKeys: 3 }),
    body: fc.option(body, { nil: undefined }),
  })
  .map((r): Sent => {
    const headers: Record<string, string> = { ...r.extra, "content-type": r.contentType };
    if (r.auth === "operator") headers.authorization = `Bearer ${OPERATOR_KEY}`;
    if (r.auth === "viewer") headers.authorization = `Bearer ${VIEWER_KEY}`;
    if (r.auth === "bogus") headers.authorization = "Bearer not-a-key-0000000000";
    if (r.auth === "basic") headers.authorization = "Basic dXNlcjpwYXNz";
    if (r.idempotencyKey !== undefined) headers["idempotency-key"] = r.idempotencyKey;
    return { method: r.method, path: r.path, headers, body: r.method === "GET" ? undefined : r.body };
  })
  // GETs of real collections, the public docs and the mock agent's own pages legitimately answer 200.
  .filter((r) => {
    if (r.method !== "GET") return true;
    const p = r.path.replace(/^\/api(\/v1)?/, "");
    return !/^\/?(|tasks|agents|tools|tools\/list|audit|docs|openapi\.json|agents\/mock|tools\/mock\/(echo|sleep|fail))\/?$/.test(p);
  });

describe("API under random and malformed requests (property-based)", () => {
  let stack: Stack;
  const redis = connect();

  beforeAll(async () => {
    stack = await startStack({ config: { agents: { mock: { type: "mock" } } } });
  });
  afterAll(async () => {
    await stack?.close();
    redis.disconnect();
  });

  it("answers every one with a JSON 4xx error, stays up, and enqueues nothing", async () => {
    await fc.assert(
      fc.asyncProperty(request_, async (req) => {
        const response = await sendRaw(stack.url, req);
        const label = `${req.method} ${req.path} → ${response.status} ${response.text.slice(0, 200)}`;
        expect(response.status, label).toBeGreaterThanOrEqual(400);
        expect(response.status, label).toBeLessThan(500);
        expect(response.contentType, label).toContain("application/json");
        const parsed = JSON.parse(response.text);
        expect(Object.keys(parsed).sort(), label).toEqual(["details", "error_code", "message"]);
        expect(typeof parsed.error_code).toBe("string");
        expect(typeof parsed.message).toBe("string");
        // No stack traces or internal paths.
        expect(response.text, label).not.toMatch(/\s+at .+\(|node_modules|\/work\//);
      }),
      { numRuns: 400 },
    );
    // Still up and still working.
    expect((await sendRaw(stack.url, { method: "GET", path: "/healthz", headers: {} })).status).toBe(200);
    const queue = new Queue("agent.mock", { connection: redis, prefix: stack.prefix });
    const counts = await queue.getJobCounts();
    await queue.close();
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
    expect(await redis.exists(`${stack.prefix}:agent.mock:id`)).toBe(0);
    expect(await redis.hlen(`${stack.prefix}:agents`)).toBe(0);
  });
});
