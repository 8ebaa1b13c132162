import { Validator } from "@seriousme/openapi-schema-validator";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient } from "./helpers/http.js";
import { connect, redisUrl } from "./helpers/redis.js";
import { readSse } from "./helpers/sse.js";
import { ADMIN_KEY, OPERATOR_KEY, OTHER_TENANT_KEY, type Stack, startStack, VIEWER_KEY, waitForTask } from "./helpers/stack.js";
import { waitFor } from "./helpers/wait.js";

/** A registered agent no worker can serve (nothing listens there): its tasks stay queued. */
const UNREACHABLE = { type: "mcp", transport: "http", url: "http://127.0.0.1:9/mcp" };

/**
 * The task API end to end: real Redis, a real worker (in process) serving three mock agents.
 * `slow` runs one task at a time, which makes "queued" and "running" states easy to hold.
 */
describe("task API", () => {
  let stack: Stack;
  const redis = connect();

  beforeAll(async () => {
    stack = await startStack({
      config: {
        agents: {
          mock: { type: "mock", capabilities: ["general"] },
          mock2: { type: "mock", capabilities: ["general"] },
          slow: { type: "mock", concurrency: 1, capabilities: ["single"] },
        },
        limits: { backoff_ms: 50 },
        auth: { agent_url_allowlist: ["http://127.0.0.1"] },
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
    redis.disconnect();
  });

  async function jobCount(agent: string): Promise<number> {
    const queue = new Queue(`agent.${agent}`, { connection: redis, prefix: stack.prefix });
    const counts = await queue.getJobCounts();
    await queue.close();
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  describe("agents", () => {
    it("lists agents with type, status, capabilities and load", async () => {
      const { status, body } = await stack.viewer.get("/api/v1/agents");
      expect(status).toBe(200);
      const slow = body.agents.find((a: { name: string }) => a.name === "slow");
      expect(slow).toMatchObject({
        name: "slow",
        type: "mock",
        source: "config",
        status: expect.stringMatching(/^(available|busy)$/),
        capabilities: ["single"],
        concurrency: 1,
        workers: 1,
        load: { active: expect.any(Number), queued: expect.any(Number), capacity: 1 },
      });
      expect((await stack.viewer.get("/api/v1/agents/mock")).body).toMatchObject({ name: "mock", status: "available" });
      expect((await stack.viewer.get("/api/v1/agents/ghost")).status).toBe(404);
    });

    it("registers an agent (201), refuses a taken name (409) and never returns credentials", async () => {
      const secret = "sk-very-secret-token-123456";
      const registered = await stack.operator.post("/api/v1/agents", {
        name: "remote",
        config: {
          type: "mcp",
          transport: "http",
          url: "http://127.0.0.1:9/mcp",
          auth_token: secret,
          headers: { "x-secret": secret },
          capabilities: ["remote"],
        },
      });
      expect(registered.status).toBe(201);
      expect(registered.body).toMatchObject({ name: "remote", type: "mcp", source: "registry", status: "offline" });
      expect(registered.headers.get("location")).toBe("/api/v1/agents/remote");
      const again = await stack.operator.post("/api/v1/agents", { name: "remote", config: { type: "mock" } });
      expect(again.status).toBe(409);
      expect(again.body.error_code).toBe("CONFLICT");
      expect((await stack.operator.post("/api/v1/agents", { name: "mock", config: { type: "mock" } })).status).toBe(409);
      const reads = [
        JSON.stringify(registered.body),
        JSON.stringify((await stack.viewer.get("/api/v1/agents/remote")).body),
        JSON.stringify((await stack.viewer.get("/api/v1/agents")).body),
      ];
      for (const text of reads) expect(text).not.toContain(secret);
      expect(reads[2]).toContain('"remote"');
      // Stored (for workers) in the registry, not handed out.
      expect(await redis.hget(`${stack.prefix}:agents`, "remote")).toContain(secret);
    });

    it("a registered agent is served by the workers at once and runs tasks; removing it stops that", async () => {
      const created = await stack.operator.post("/api/v1/agents", { name: "hot", config: { type: "mock", capabilities: ["hotcap"] } });
      expect(created.status).toBe(201);
      await waitFor(async () => (await stack.viewer.get("/api/v1/agents/hot")).body.status === "available", { what: "hot agent served" });
      const task = await stack.operator.post("/api/v1/tasks", { capability: "hotcap", tool_name: "echo", arguments: { hot: 1 } });
      expect(task.body.agent_name).toBe("hot");
      expect(await waitForTask(stack.viewer, task.body.task_id)).toMatchObject({ status: "completed", result: { echo: { hot: 1 } } });
      expect((await stack.operator.delete("/api/v1/agents/hot")).status).toBe(204);
      await waitFor(async () => (await stack.viewer.get("/api/v1/agents/hot")).status === 404, { what: "hot agent gone" });
      expect((await stack.operator.post("/api/v1/tasks", { agent_name: "hot", tool_name: "echo" })).status).toBe(404);
    });

    it("registering a stdio agent needs the admin role", async () => {
      const body = { name: "cmd", config: { type: "mcp", transport: "stdio", command: "node", args: ["-e", "0"] } };
      const denied = await stack.operator.post("/api/v1/agents", body);
      expect(denied.status).toBe(403);
      expect(denied.body.error_code).toBe("FORBIDDEN");
      expect((await stack.viewer.post("/api/v1/agents", { name: "v", config: { type: "mock" } })).status).toBe(403);
      expect((await stack.admin.post("/api/v1/agents", body)).status).toBe(201);
      expect((await stack.admin.delete("/api/v1/agents/cmd")).status).toBe(204);
    });

    it("removing an agent: 204, queued tasks fail with AGENT_REMOVED or move to an agent with its capability", async () => {
      // Nobody can serve these two (their MCP server does not exist), so their tasks wait.
      expect((await stack.operator.post("/api/v1/agents", { name: "lonely", config: UNREACHABLE })).status).toBe(201);
      expect(
        (await stack.operator.post("/api/v1/agents", { name: "twin", config: { ...UNREACHABLE, capabilities: ["general"] } })).status,
      ).toBe(201);
      const stranded = await stack.operator.post("/api/v1/tasks", { agent_name: "lonely", tool_name: "echo" });
      const movable = await stack.operator.post("/api/v1/tasks", { agent_name: "twin", tool_name: "echo", arguments: { n: 1 } });
      expect([stranded.status, movable.status]).toEqual([201, 201]);
      expect((await stack.viewer.get(`/api/v1/tasks/${stranded.body.task_id}`)).body.status).toBe("queued");

      expect((await stack.viewer.delete("/api/v1/agents/lonely")).status).toBe(403);
      expect((await stack.operator.delete("/api/v1/agents/lonely")).status).toBe(204);
      expect((await stack.operator.delete("/api/v1/agents/twin")).status).toBe(204);
      expect((await stack.viewer.get("/api/v1/agents/lonely")).status).toBe(404);
      expect((await stack.operator.delete("/api/v1/agents/lonely")).status).toBe(404);
      expect(await waitForTask(stack.viewer, stranded.body.task_id)).toMatchObject({ status: "failed", error: { code: "AGENT_REMOVED" } });
      const moved = await waitForTask(stack.viewer, movable.body.task_id);
      expect(moved).toMatchObject({ status: "completed", agent_name: expect.stringMatching(/^mock2?$/), result: { echo: { n: 1 } } });
      // Config agents are not removable through the API.
      const config = await stack.admin.delete("/api/v1/agents/mock");
      expect(config.status).toBe(409);
    });
  });

  describe("tasks", () => {
    it("schedules by capability onto healthy agents, spreading ties", async () => {
      const submitted = await Promise.all(
        Array.from({ length: 24 }, () => stack.operator.post("/api/v1/tasks", { capability: "general", tool_name: "echo" })),
      );
      const agents = new Set(submitted.map((r) => r.body.agent_name));
      expect(submitted.every((r) => r.status === 201)).toBe(true);
      expect([...agents].sort()).toEqual(["mock", "mock2"]);
      const missing = await stack.operator.post("/api/v1/tasks", { capability: "telepathy", tool_name: "echo" });
      expect(missing.status).toBe(404);
      // An agent with the capability but no live worker is skipped: none left, 503.
      await stack.operator.post("/api/v1/agents", { name: "ghostly", config: { ...UNREACHABLE, capabilities: ["haunt"] } });
      const unhealthy = await stack.operator.post("/api/v1/tasks", { capability: "haunt", tool_name: "echo" });
      expect(unhealthy.status).toBe(503);
      expect(unhealthy.body.error_code).toBe("AGENT_UNAVAILABLE");
      const both = await stack.operator.post("/api/v1/tasks", { agent_name: "mock", capability: "general", tool_name: "echo" });
      expect(both.status).toBe(400);
    });

    it("an Idempotency-Key returns the same task (200) and never enqueues twice", async () => {
      const before = await jobCount("mock");
      const body = { agent_name: "mock", tool_name: "echo", arguments: { once: true } };
      const first = await stack.operator.post("/api/v1/tasks", body, { "idempotency-key": "order-42" });
      expect(first.status).toBe(201);
      const again = await stack.operator.post("/api/v1/tasks", body, { "idempotency-key": "order-42" });
      expect(again.status).toBe(200);
      expect(again.body.task_id).toBe(first.body.task_id);
      // The body field works the same way, and racing duplicates create exactly one task.
      const raced = await Promise.all(
        Array.from({ length: 10 }, () => stack.operator.post("/api/v1/tasks", { ...body, idempotency_key: "race-1" })),
      );
      expect(raced.filter((r) => r.status === 201)).toHaveLength(1);
      expect(new Set(raced.map((r) => r.body.task_id)).size).toBe(1);
      expect(await jobCount("mock")).toBe(before + 2);
      // The same key with a different request is a conflict, not a silent replay.
      const conflict = await stack.operator.post(
        "/api/v1/tasks",
        { ...body, arguments: { once: false } },
        { "idempotency-key": "order-42" },
      );
      expect(conflict.status).toBe(409);
      // Keys are per tenant.
      const other = await stack.otherTenant.post("/api/v1/tasks", body, { "idempotency-key": "order-42" });
      expect(other.status).toBe(201);
      expect(other.body.task_id).not.toBe(first.body.task_id);
    });

    it("paginates over 1,000 tasks with a cursor; other tenants see none of them", async () => {
      const client = apiClient(stack.url, OTHER_TENANT_KEY);
      const ids: string[] = [];
      for (let batch = 0; batch < 20; batch++) {
        const created = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            client.post("/api/v1/tasks", { agent_name: "mock", tool_name: "echo", arguments: { i: batch * 50 + i } }),
          ),
        );
        for (const r of created) {
          expect(r.status).toBe(201);
          ids.push(r.body.task_id);
        }
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: any = await client.get(`/api/v1/tasks?limit=100${cursor ? `&cursor=${cursor}` : ""}`);
        expect(page.status).toBe(200);
        seen.push(...page.body.tasks.map((t: { task_id: string }) => t.task_id));
        cursor = page.body.next_cursor;
        pages++;
      } while (cursor && pages < 20);
      // The idempotency test above gave this tenant one more task.
      expect(seen.length).toBe(ids.length + 1);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(expect.arrayContaining(ids));
      expect([...seen].sort().reverse()).toEqual(seen);

      const mine = await stack.viewer.get("/api/v1/tasks?limit=500");
      expect(mine.body.tasks.some((t: { task_id: string }) => ids.includes(t.task_id))).toBe(false);
      const foreign = ids[0] as string;
      for (const response of [
        await stack.admin.get(`/api/v1/tasks/${foreign}`),
        await stack.admin.post(`/api/v1/tasks/${foreign}/cancel`),
        await stack.admin.get(`/api/v1/tasks/${foreign}/events`),
      ]) {
        expect(response.status).toBe(404);
        expect(response.body.error_code).toBe("TASK_NOT_FOUND");
      }
    });

    it("viewers cannot submit, cancel or invoke (403)", async () => {
      const before = await jobCount("mock");
      const submit = await stack.viewer.post("/api/v1/tasks", { agent_name: "mock", tool_name: "echo" });
      expect(submit.status).toBe(403);
      expect(submit.body).toMatchObject({ error_code: "FORBIDDEN", message: expect.any(String), details: null });
      expect((await stack.viewer.post("/api/v1/tools/mock/echo/invoke", { arguments: {} })).status).toBe(403);
      expect((await stack.viewer.post("/api/v1/tools/execute", { tool: "mock.echo", params: {} })).status).toBe(403);
      expect((await stack.viewer.post("/api/v1/tasks/tsk_00000000000000000000000000/cancel")).status).toBe(403);
      expect(await jobCount("mock")).toBe(before);
    });

    it("cancels a queued task at once and a running task through its worker", async () => {
      const running = await stack.operator.post("/api/v1/tasks", { agent_name: "slow", tool_name: "sleep", arguments: { ms: 20_000 } });
      await waitFor(async () => (await stack.viewer.get(`/api/v1/tasks/${running.body.task_id}`)).body.status === "running");
      const queued = await stack.operator.post("/api/v1/tasks", { agent_name: "slow", tool_name: "echo" });

      const cancelQueued = await stack.operator.post(`/api/v1/tasks/${queued.body.task_id}/cancel`);
      expect(cancelQueued.status).toBe(200);
      expect(cancelQueued.body).toMatchObject({ status: "cancelled", error: { code: "CANCELLED" } });
      expect((await stack.viewer.get(`/api/v1/tasks/${queued.body.task_id}`)).body.status).toBe("cancelled");

      const started = Date.now();
      const cancelRunning = await stack.operator.post(`/api/v1/tasks/${running.body.task_id}/cancel`);
      expect(cancelRunning.status).toBe(202);
      expect(cancelRunning.body).toMatchObject({ status: "running", cancel_requested: true });
      const done = await waitForTask(stack.viewer, running.body.task_id);
      expect(done).toMatchObject({ status: "cancelled", error: { code: "CANCELLED" }, attempts: 1 });
      expect(Date.now() - started).toBeLessThan(10_000);

      const again = await stack.operator.post(`/api/v1/tasks/${running.body.task_id}/cancel`);
      expect(again.status).toBe(409);
      // The slot is free again: the queue keeps working.
      const next = await stack.operator.post("/api/v1/tasks", { agent_name: "slow", tool_name: "echo" });
      expect((await waitForTask(stack.viewer, next.body.task_id)).status).toBe("completed");
    });

    it("streams queued → running → completed over SSE, and a late subscriber gets the final state", async () => {
      const blocker = await stack.operator.post("/api/v1/tasks", { agent_name: "slow", tool_name: "sleep", arguments: { ms: 400 } });
      const task = await stack.operator.post("/api/v1/tasks", { agent_name: "slow", tool_name: "echo", arguments: { m: "sse" } });
      expect((await stack.viewer.get(`/api/v1/tasks/${task.body.task_id}`)).body.status).toBe("queued");
      const stream = await readSse(`${stack.url}/api/v1/tasks/${task.body.task_id}/events`, VIEWER_KEY);
      expect(stream.status).toBe(200);
      expect(stream.contentType).toContain("text/event-stream");
      const statuses = stream.events.filter((e) => e.event === "status").map((e) => e.data.status);
      expect(statuses).toEqual(["queued", "running", "completed"]);
      expect(stream.events.at(-1)?.data).toMatchObject({ task_id: task.body.task_id, result: { echo: { m: "sse" } } });

      const late = await readSse(`${stack.url}/api/v1/tasks/${blocker.body.task_id}/events`, VIEWER_KEY);
      expect(late.events.map((e) => e.data.status)).toEqual(["completed"]);
      const missing = await readSse(`${stack.url}/api/v1/tasks/tsk_00000000000000000000000000/events`, VIEWER_KEY);
      expect(missing.status).toBe(404);
    });
  });

  it("relays a running task's progress events on its SSE stream", async () => {
    // An agent no Switchyard worker serves; a plain BullMQ worker on its queue plays the part and
    // reports progress the way the task processor does (job.updateProgress(TaskProgressEvent)).
    expect((await stack.operator.post("/api/v1/agents", { name: "streamer", config: UNREACHABLE })).status).toBe(201);
    const task = await stack.operator.post("/api/v1/tasks", { agent_name: "streamer", tool_name: "echo" });
    expect(task.status).toBe(201);
    // Start the worker once the stream is open (its first event is the queued state).
    let opened: () => void = () => {};
    const open = new Promise<void>((resolve) => {
      opened = resolve;
    });
    const stream = readSse(`${stack.url}/api/v1/tasks/${task.body.task_id}/events`, VIEWER_KEY, 15_000, () => opened());
    await open;
    const blocking = new Redis(redisUrl(), { maxRetriesPerRequest: null });
    const worker = new Worker(
      "agent.streamer",
      async (job) => {
        await job.updateProgress({ type: "token", text: "Hel" });
        await job.updateProgress({ type: "token", text: "lo" });
        await job.updateProgress({ type: "progress", progress: 1, total: 1 });
        await job.updateProgress({ not: "a progress event" });
        return { text: "Hello" };
      },
      { connection: blocking, prefix: stack.prefix },
    );
    try {
      const { events } = await stream;
      expect(events.filter((e) => e.event === "progress").map((e) => e.data)).toEqual([
        { type: "token", text: "Hel" },
        { type: "token", text: "lo" },
        { type: "progress", progress: 1, total: 1 },
      ]);
      expect(events.at(-1)).toMatchObject({ event: "status", data: { status: "completed", result: { text: "Hello" } } });
    } finally {
      await worker.close();
      blocking.disconnect();
    }
  });

  describe("tools", () => {
    it("shows one tool, lists tools grouped by agent, 404s unknown ones", async () => {
      const tool = await stack.viewer.get("/api/v1/tools/mock/sleep");
      expect(tool.body).toMatchObject({ name: "mock.sleep", agent: "mock", tool: "sleep", input_schema: { required: ["ms"] } });
      expect((await stack.viewer.get("/api/v1/tools/mock/nope")).body.error_code).toBe("TOOL_NOT_FOUND");
      expect((await stack.viewer.get("/api/v1/tools/nobody/echo")).body.error_code).toBe("AGENT_NOT_FOUND");
      const grouped = await stack.viewer.get("/api/v1/tools/list");
      const slow = grouped.body.agents.find((a: { agent: string }) => a.agent === "slow");
      expect(slow.tools.map((t: { name: string }) => t.name).sort()).toEqual(["echo", "fail", "sleep", "split"]);
      const flat = await stack.viewer.get("/api/v1/tools");
      expect(flat.body.tools.map((t: { name: string }) => t.name)).toEqual(
        expect.arrayContaining(["mock.echo", "mock2.echo", "slow.sleep"]),
      );
    });

    it("invokes synchronously: 200 with the result, 202 with a task id on timeout, the task's error on failure", async () => {
      const ok = await stack.operator.post("/api/v1/tools/mock/echo/invoke", { arguments: { hello: "world" } });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ status: "completed", result: { echo: { hello: "world" } }, task_id: expect.stringMatching(/^tsk_/) });

      const executed = await stack.operator.post("/api/v1/tools/execute", { tool: "mock2.echo", params: { via: "execute" } });
      expect(executed.status).toBe(200);
      expect(executed.body.result).toEqual({ echo: { via: "execute" } });

      const slow = await stack.operator.post("/api/v1/tools/slow/sleep/invoke", { arguments: { ms: 1_500 }, wait_ms: 50 });
      expect(slow.status).toBe(202);
      expect(slow.body).toMatchObject({ task_id: expect.stringMatching(/^tsk_/), status: expect.stringMatching(/^(queued|running)$/) });
      expect((await waitForTask(stack.viewer, slow.body.task_id)).status).toBe("completed");

      const failed = await stack.operator.post("/api/v1/tools/mock/fail/invoke", { arguments: { message: "nope" } });
      expect(failed.status).toBe(502);
      expect(failed.body).toMatchObject({ error_code: "TOOL_ERROR", message: "nope", details: { task_id: expect.any(String) } });
    });

    it("validates arguments against the tool's schema before queueing (400 naming the field)", async () => {
      const before = await jobCount("mock");
      const bad = await stack.operator.post("/api/v1/tools/execute", { tool: "mock.sleep", params: { ms: "soon" } });
      expect(bad.status).toBe(400);
      expect(bad.body.message).toMatch(/^arguments\.ms: /);
      const unqualified = await stack.operator.post("/api/v1/tools/execute", { tool: "sleep", params: {} });
      expect(unqualified.status).toBe(400);
      expect((await stack.operator.post("/api/v1/tools/mock/sleep/invoke", { arguments: {} })).status).toBe(400);
      expect((await stack.operator.post("/api/v1/tools/mock/ghost/invoke", { arguments: {} })).status).toBe(404);
      expect(await jobCount("mock")).toBe(before);
    });
  });

  describe("audit", () => {
    it("records every mutating call for the tenant's admins", async () => {
      const task = await stack.operator.post("/api/v1/tasks", { agent_name: "mock", tool_name: "echo" });
      await stack.viewer.post("/api/v1/tasks", { agent_name: "mock", tool_name: "echo" });
      const entries = await waitFor(async () => {
        const { body } = await stack.admin.get("/api/v1/audit?limit=1000");
        const found = body.entries.find((e: { target?: string }) => e.target === task.body.task_id);
        return found ? body.entries : undefined;
      });
      expect(entries.find((e: { target?: string }) => e.target === task.body.task_id)).toMatchObject({
        tenant: "acme",
        role: "operator",
        method: "POST",
        path: "/api/v1/tasks",
        status: 201,
        outcome: "ok",
        key_id: expect.any(String),
        at: expect.any(String),
      });
      expect(entries.some((e: { role: string; outcome: string }) => e.role === "viewer" && e.outcome === "FORBIDDEN")).toBe(true);
      expect(JSON.stringify(entries)).not.toContain(OPERATOR_KEY);
      expect((await stack.operator.get("/api/v1/audit")).status).toBe(403);
      const other = await stack.otherTenant.get("/api/v1/audit?limit=1000");
      expect(other.body.entries.every((e: { tenant: string }) => e.tenant === "globex")).toBe(true);
      // Pagination by cursor.
      const page = await stack.admin.get("/api/v1/audit?limit=2");
      expect(page.body.entries).toHaveLength(2);
      const next = await stack.admin.get(`/api/v1/audit?limit=2&cursor=${page.body.next_cursor}`);
      expect(next.body.entries[0].id < page.body.entries[1].id).toBe(true);
    });
  });

  describe("API keys", () => {
    it("admins create keys stored only hashed, usable at once, listed without the secret, revocable", async () => {
      const created = await stack.admin.post("/api/v1/keys", { role: "operator", name: "ci" });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        id: expect.any(String),
        tenant: "acme",
        role: "operator",
        name: "ci",
        key: expect.stringMatching(/^sy_/),
      });
      const key = created.body.key as string;
      const client = apiClient(stack.url, key);
      const task = await client.post("/api/v1/tasks", { agent_name: "mock", tool_name: "echo" });
      expect(task.status).toBe(201);
      // Its tenant's data only, and its role's rights only.
      expect((await client.get(`/api/v1/tasks/${task.body.task_id}`)).status).toBe(200);
      expect((await client.get("/api/v1/audit")).status).toBe(403);

      const list = await stack.admin.get("/api/v1/keys");
      expect(list.body.keys.map((k: { id: string }) => k.id)).toContain(created.body.id);
      expect(JSON.stringify(list.body)).not.toContain(key);
      expect((await stack.otherTenant.get("/api/v1/keys")).body.keys).toEqual([]);
      expect((await stack.operator.post("/api/v1/keys", { role: "admin" })).status).toBe(403);
      // Redis holds the hash, never the key.
      const stored = await redis.hgetall(`${stack.prefix}:apikeys`);
      expect(JSON.stringify(stored)).not.toContain(key);
      expect(Object.keys(stored).some((hash) => hash.startsWith(created.body.id))).toBe(true);

      expect((await stack.otherTenant.delete(`/api/v1/keys/${created.body.id}`)).status).toBe(404);
      expect((await stack.admin.delete(`/api/v1/keys/${created.body.id}`)).status).toBe(204);
      await waitFor(async () => (await client.get("/api/v1/agents")).status === 401, { what: "revoked key refused" });
    });
  });

  describe("OpenAPI", () => {
    it("serves a valid OpenAPI 3.1 document listing every route, and a reference page", async () => {
      const anonymous = apiClient(stack.url);
      const { status, body: doc } = await anonymous.get("/api/v1/openapi.json");
      expect(status).toBe(200);
      const validator = new Validator();
      const result = await validator.validate(doc);
      expect(result.errors ?? []).toEqual([]);
      expect(result.valid).toBe(true);
      expect(doc.openapi).toBe("3.1.0");
      const operations = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
        Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
      );
      expect(operations).toEqual(
        expect.arrayContaining([
          "GET /api/v1/agents",
          "POST /api/v1/agents",
          "GET /api/v1/agents/{name}",
          "DELETE /api/v1/agents/{name}",
          "GET /api/v1/tasks",
          "POST /api/v1/tasks",
          "GET /api/v1/tasks/{id}",
          "POST /api/v1/tasks/{id}/cancel",
          "GET /api/v1/tasks/{id}/events",
          "GET /api/v1/tools",
          "GET /api/v1/tools/list",
          "GET /api/v1/tools/{agent}/{tool}",
          "POST /api/v1/tools/{agent}/{tool}/invoke",
          "POST /api/v1/tools/execute",
          "GET /api/v1/audit",
          "POST /api/v1/keys",
          "GET /api/v1/keys",
          "DELETE /api/v1/keys/{id}",
          "GET /api/v1/openapi.json",
          "GET /api/v1/docs",
          "GET /api/v1/usage",
        ]),
      );
      // Every route the api serves is listed, including any added without the route table.
      for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, { summary: string; responses: object }>>))
        for (const op of Object.values(methods)) expect(op.summary && Object.keys(op.responses).length, path).toBeTruthy();
      // Request bodies come from the same zod schemas the handlers validate with.
      const submit = doc.paths["/api/v1/tasks"].post.requestBody.content["application/json"].schema;
      expect(Object.keys(submit.properties)).toEqual(
        expect.arrayContaining(["agent_name", "capability", "tool_name", "arguments", "priority", "idempotency_key"]),
      );
      const page = await fetch(`${stack.url}/api/v1/docs`);
      expect(page.headers.get("content-type")).toContain("text/html");
      const html = await page.text();
      for (const path of ["/api/v1/tasks/{id}/events", "/api/v1/tools/execute", "/api/v1/audit"]) expect(html).toContain(path);
    });
  });

  it("admin key is not required for docs but is for everything else", async () => {
    expect((await apiClient(stack.url).get("/api/v1/agents")).status).toBe(401);
    expect((await apiClient(stack.url, ADMIN_KEY).get("/api/v1/agents")).status).toBe(200);
  });
});
