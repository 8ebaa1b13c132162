import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliProcess } from "../helpers/cli.js";
import { type ApiClient, apiClient } from "../helpers/http.js";
import { redisUrl } from "../helpers/redis.js";
import { ADMIN_KEY, OPERATOR_KEY, OTHER_TENANT_KEY, VIEWER_KEY } from "../helpers/stack.js";
import { waitFor } from "../helpers/wait.js";
import { startApi, startWorker, stop, writeClusterConfig } from "./cluster.js";
import { report } from "./report.js";
import { fill, operations } from "./routes.js";

type Role = "viewer" | "operator" | "admin";
const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
const ROLES: Role[] = ["viewer", "operator", "admin"];

/** Secrets handed to the platform in this scenario: none may ever come back out. */
const SECRETS = ["sy-secret-mcp-token-8f3a91c2", "sy-secret-header-4d7e0b55", "sy-secret-rest-token-a19c77e0", "sy-secret-openai-key-5b2f"];

describe("access: auth table, revoked keys, agent registration policy, secrets", () => {
  let api: { process: CliProcess; url: string; client: ApiClient };
  let worker: CliProcess;
  let upstream: Server;
  let upstreamUrl: string;
  const clients = {} as Record<Role, ApiClient>;

  beforeAll(async () => {
    // A REST upstream that fails, so the worker handles (and may log) an error with the secret configured.
    upstream = createServer((_req, res) => res.writeHead(500, { "content-type": "text/plain" }).end("upstream broke"));
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const { file } = writeClusterConfig({
      auth: {
        keys: [
          { key: ADMIN_KEY, role: "admin", tenant: "acme" },
          { key: OPERATOR_KEY, role: "operator", tenant: "acme" },
          { key: VIEWER_KEY, role: "viewer", tenant: "acme" },
          { key: OTHER_TENANT_KEY, role: "admin", tenant: "globex" },
        ],
        agent_url_allowlist: ["http://127.0.0.1:9/allowed", "mcp.allowed.example"],
      },
      limits: { max_attempts: 1 },
      agents: { mock: { type: "mock" } },
    });
    [api, worker] = await Promise.all([
      startApi(file, redisUrl(), { LOG_LEVEL: "debug" }),
      startWorker(file, redisUrl(), { LOG_LEVEL: "debug" }),
    ]);
    clients.admin = api.client;
    clients.operator = apiClient(api.url, OPERATOR_KEY);
    clients.viewer = apiClient(api.url, VIEWER_KEY);
  });
  afterAll(async () => {
    await Promise.all([api && stop(api.process), worker && stop(worker)]);
    upstream?.close();
  });

  it("every route: no key → 401, revoked key → 401, each role → the table's allow/deny", async () => {
    const ops = await operations(api.url);
    expect(ops.length).toBeGreaterThan(30);
    // The generated table covers the plain routers too (workflows, runs, orchestration).
    for (const p of ["/api/v1/workflows", "/api/v1/runs/{id}/cancel", "/api/v1/keys"])
      expect(
        ops.some((o) => o.path === p),
        p,
      ).toBe(true);
    const created = await clients.admin.post("/api/v1/keys", { role: "admin", name: "to-revoke" });
    expect(created.status).toBe(201);
    const revokedKey: string = created.body.key;
    expect((await apiClient(api.url, revokedKey).get("/api/v1/tasks")).status).toBe(200);
    expect((await clients.admin.delete(`/api/v1/keys/${created.body.id}`)).status).toBe(204);
    const revoked = apiClient(api.url, revokedKey);
    const anonymous = apiClient(api.url);

    const violations: string[] = [];
    let calls = 0;
    const protectedOps = [...ops.filter((o) => o.role !== null), { method: "POST", path: "/mcp", role: "viewer" as Role }];
    for (const op of protectedOps) {
      const path = fill(op.path);
      const body = op.method === "GET" || op.method === "DELETE" ? undefined : {};
      for (const [label, client] of [
        ["no key", anonymous],
        ["revoked key", revoked],
        ["unknown key", apiClient(api.url, "sy-not-a-key-00000000000000")],
      ] as const) {
        const r = await client.call(op.method, path, body);
        calls++;
        if (r.status !== 401 || typeof r.body?.error_code !== "string") violations.push(`${label} ${op.method} ${path} → ${r.status}`);
      }
    }
    // A participant agent's key (issue 7) acts with the operator role, as that agent.
    const registered = await clients.operator.post("/api/v1/participants/register_agent", { id: "table-agent" });
    expect(registered.status).toBe(200);
    const principals: Array<[string, ApiClient, Role]> = [
      ...ROLES.map((role): [string, ApiClient, Role] => [role, clients[role], role]),
      ["participant", apiClient(api.url, registered.body.api_key), "operator"],
    ];
    for (const op of ops.filter((o) => o.role !== null))
      for (const [label, client, role] of principals) {
        // (With an empty body the participant would deregister itself, revoking its key: covered below.)
        if (label === "participant" && op.path.endsWith("/deregister_agent")) continue;
        const r = await client.call(op.method, fill(op.path), op.method === "GET" || op.method === "DELETE" ? undefined : {});
        calls++;
        const allowed = RANK[role] >= RANK[op.role as Role];
        // Acting-as-self participant operations also need an agent's key: a tenant key passes the
        // role check and is then refused for who it is (not for its role).
        const needsAgent = r.status === 403 && /participant agent's key/.test(JSON.stringify(r.body));
        const ok = allowed
          ? r.status !== 401 && r.status < 500 && (r.status !== 403 || (needsAgent && label !== "participant"))
          : r.status === 403 && !needsAgent;
        if (!ok)
          violations.push(`${label} ${op.method} ${op.path} (needs ${op.role}) → ${r.status} ${JSON.stringify(r.body).slice(0, 120)}`);
      }
    for (const v of violations) process.stdout.write(`violation: ${v}\n`);
    report({ scenario: "auth table (every route × no/revoked/unknown key × role)", operations: calls, violations: violations.length });
    expect(violations).toEqual([]);
  });

  it("a participant agent cannot act with another agent's id", async () => {
    const call = (client: ApiClient, tool: string, body: unknown = {}) => client.post(`/api/v1/participants/${tool}`, body);
    const keyOf = async (id: string) =>
      apiClient(api.url, (await call(clients.operator, "register_agent", { id, capabilities: ["code"] })).body.api_key);
    const alice = await keyOf("alice");
    const bob = await keyOf("bob");
    const lock = await call(bob, "acquire_file_lock", { path: "src/shared.ts", ttl_ms: 30_000 });
    expect(lock.status, JSON.stringify(lock.body)).toBe(200);
    const delegated = await call(clients.operator, "delegate_subtask", {
      title: "for bob",
      description: "",
      input: {},
      assignee: "bob",
      capabilities: [],
    });
    expect(delegated.status, JSON.stringify(delegated.body)).toBe(200);
    const claimed = await call(bob, "claim_task", { wait_ms: 0 });
    const taskId = claimed.body?.task?.task_id ?? claimed.body?.task?.id;
    expect(taskId, JSON.stringify(claimed.body)).toBeTruthy();
    await call(bob, "send_message", { to: "alice", kind: "note", subject: "private", body: "for alice only" });

    const attempts: Array<[string, Promise<{ status: number; body: any }>, (r: { status: number; body: any }) => boolean]> = [
      ["re-register bob", call(alice, "register_agent", { id: "bob" }), (r) => r.status === 403],
      ["deregister bob", call(alice, "deregister_agent", { id: "bob" }), (r) => r.status === 403],
      ["heartbeat as bob", call(alice, "heartbeat", { id: "bob", status: "error" }), (r) => r.status === 400],
      ["release bob's lock", call(alice, "release_file_lock", { path: "src/shared.ts" }), (r) => r.status === 403 || r.status === 409],
      [
        "release with bob's token",
        call(alice, "release_file_lock", { path: "src/shared.ts", token: lock.body.token }),
        (r) => r.status === 403 || r.status === 409,
      ],
      [
        "renew bob's lock",
        call(alice, "renew_file_lock", { path: "src/shared.ts", ttl_ms: 1_000 }),
        (r) => r.status === 403 || r.status === 409,
      ],
      ["complete bob's task", call(alice, "complete_task", { task_id: taskId, result: {} }), (r) => r.status >= 400 && r.status < 500],
      [
        "fail bob's task",
        call(alice, "fail_task", { task_id: taskId, error: { message: "x" }, retry: false }),
        (r) => r.status >= 400 && r.status < 500,
      ],
      [
        "send as bob",
        call(alice, "send_message", { from: "bob", to: "alice", kind: "note", subject: "s", body: "b" }),
        (r) => r.status === 400,
      ],
    ];
    let violations = 0;
    for (const [what, pending, refused] of attempts) {
      const r = await pending;
      if (!refused(r)) {
        violations++;
        process.stdout.write(`violation: alice could ${what}: ${r.status} ${JSON.stringify(r.body).slice(0, 160)}\n`);
      }
    }
    // Bob's state is intact: his lock, his task, and a message only alice could read.
    const check = await call(clients.viewer, "check_file_lock", { path: "src/shared.ts" });
    if (JSON.stringify(check.body).includes('"bob"') === false) violations++;
    expect((await call(bob, "complete_task", { task_id: taskId, result: { ok: true } })).status).toBe(200);
    const bobInbox = await call(bob, "read_messages", { max: 10, wait_ms: 0 });
    if (JSON.stringify(bobInbox.body).includes("for alice only")) violations++;
    report({ scenario: "participant identity (no acting as another agent)", operations: attempts.length + 3, violations });
    expect(violations).toBe(0);
  });

  it("agent registration: stdio and off-list URLs need admin; secrets never come back out", async () => {
    const attempts: Array<[Role, unknown, number]> = [
      ["operator", { type: "mcp", transport: "stdio", command: "node", args: ["-e", "1"] }, 403],
      ["viewer", { type: "mock" }, 403],
      ["operator", { type: "mcp", transport: "http", url: "http://127.0.0.1:9/elsewhere" }, 403],
      ["operator", { type: "mcp", transport: "http", url: "http://127.0.0.1:9/allowedx" }, 403],
      ["operator", { type: "mcp", transport: "sse", url: "http://127.0.0.1:10/allowed/sse" }, 403],
      ["operator", { type: "mcp", transport: "http", url: "http://mcp.allowed.example.evil.test/mcp" }, 403],
      ["operator", { type: "mcp", transport: "http", url: "http://user:pw@mcp.allowed.example/mcp" }, 403],
      ["operator", { type: "rest", base_url: "http://169.254.169.254", tools: { t: { path: "/latest" } } }, 403],
      ["operator", { type: "openai", model: "m", api_key: "k", base_url: "http://10.0.0.1/v1" }, 403],
      ["operator", { type: "mcp", transport: "http", url: "http://127.0.0.1:9/allowed/mcp" }, 201],
      ["operator", { type: "mcp", transport: "sse", url: "https://mcp.allowed.example:8443/sse" }, 201],
      ["admin", { type: "mcp", transport: "http", url: "http://127.0.0.1:9/anything" }, 201],
    ];
    let violations = 0;
    let n = 0;
    for (const [role, config, expected] of attempts) {
      const r = await clients[role].post("/api/v1/agents", { name: `reg${n++}`, config });
      if (r.status !== expected) {
        violations++;
        process.stdout.write(`violation: ${role} registering ${JSON.stringify(config)} → ${r.status} ${JSON.stringify(r.body)}\n`);
      }
    }

    // Secrets go in (registration, a failing registration, a task that makes the worker use them)…
    const [mcpToken, header, restToken, openaiKey] = SECRETS as [string, string, string, string];
    const seen: string[] = [];
    const keep = (r: { status: number; body: unknown }) => {
      seen.push(JSON.stringify(r.body));
      return r;
    };
    keep(
      await clients.admin.post("/api/v1/agents", {
        name: "secretive",
        config: { type: "mcp", transport: "http", url: "http://127.0.0.1:9/mcp", auth_token: mcpToken, headers: { "x-api-key": header } },
      }),
    );
    keep(
      await clients.admin.post("/api/v1/agents", {
        name: "restful",
        config: {
          type: "rest",
          base_url: upstreamUrl,
          auth_token: restToken,
          headers: { "x-key": header },
          tools: { poke: { path: "/poke" } },
        },
      }),
    );
    keep(await clients.admin.post("/api/v1/agents", { name: "bad", config: { type: "openai", model: 5, api_key: openaiKey } }));
    keep(await clients.admin.post("/api/v1/agents", { name: "bad2", config: { type: "openai", model: "m", api_key: openaiKey, oops: 1 } }));
    keep(
      await clients.operator.post("/api/v1/agents", {
        name: "bad3",
        config: { type: "rest", base_url: `http://x/?token=${restToken}`, tools: {} },
      }),
    );
    // …and every way to read them back is read.
    await waitFor(async () => (await clients.admin.get("/api/v1/agents/restful")).body?.status === "available", {
      what: "restful agent to be served",
      timeoutMs: 15_000,
    });
    const submitted = keep(await clients.admin.post("/api/v1/tasks", { agent_name: "restful", tool_name: "poke", arguments: {} }));
    const taskId = (submitted.body as { task_id: string }).task_id;
    const final = await waitFor(
      async () => {
        const r = await clients.admin.get(`/api/v1/tasks/${taskId}`);
        return ["failed", "completed"].includes(r.body?.status) ? r : undefined;
      },
      { what: "the REST task to finish", timeoutMs: 15_000 },
    );
    keep(final);
    for (const path of [
      "/api/v1/agents",
      "/api/v1/agents/secretive",
      "/api/v1/agents/restful",
      "/api/v1/audit",
      "/api/v1/tasks",
      "/api/v1/keys",
    ])
      keep(await clients.admin.get(path));
    keep(await clients.admin.post("/api/v1/tools/execute", { tool: "restful.poke", params: {} }));
    const toolsList = await fetch(`${api.url}/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
    });
    seen.push(await toolsList.text());

    const outputs = { responses: seen.join("\n"), "api output": api.process.output(), "worker output": worker.output() };
    let leaks = 0;
    for (const [where, text] of Object.entries(outputs))
      for (const secret of SECRETS)
        if (text.includes(secret)) {
          leaks++;
          process.stdout.write(`violation: secret ${secret.slice(0, 12)}… found in ${where}\n`);
        }
    report({
      scenario: "agent registration policy + secret leaks",
      operations: attempts.length + seen.length,
      violations: violations + leaks,
      bytes_grepped: Object.values(outputs).reduce((a, t) => a + t.length, 0),
    });
    expect(violations).toBe(0);
    expect(leaks).toBe(0);
    // The grep looked at real output: the worker did log the failure.
    expect(worker.output().length).toBeGreaterThan(0);
  });
});
