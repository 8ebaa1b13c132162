import { type ApiService, startApiService } from "@switchyard/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiClient, apiClient } from "./helpers/http.js";
import { connect, redisUrl } from "./helpers/redis.js";
import { ADMIN_KEY, OPERATOR_KEY, type Stack, startStack } from "./helpers/stack.js";

const LIMITED_KEY = "test-limited-key-0123456789";

/** Rate limits, quotas and config switches: enforced in Redis, answered with 429 + Retry-After. */
describe("API limits", () => {
  let stack: Stack;
  let replica: ApiService | undefined;

  beforeAll(async () => {
    stack = await startStack({
      // No worker: submitted tasks stay queued, which is what the quota counts.
      worker: false,
      config: {
        agents: { mock: { type: "mock" } },
        limits: { tenant_queued_tasks: 3 },
        auth: {
          allow_stdio_registration: false,
          keys: [
            { key: ADMIN_KEY, role: "admin", tenant: "acme" },
            { key: OPERATOR_KEY, role: "operator", tenant: "acme" },
            { key: LIMITED_KEY, role: "viewer", tenant: "acme", rate_limit: { requests_per_second: 2, burst: 3 } },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await replica?.close();
    await stack?.close();
  });

  it("a key over its rate limit gets 429 with Retry-After, counted across api replicas", async () => {
    // A second api replica on the same Redis and prefix shares the key's bucket.
    replica = await startApiService({
      config: stack.config,
      redisUrl: redisUrl(),
      logger: stack.logger,
      keys: stack.config.auth.keys,
      host: "127.0.0.1",
      port: 0,
    });
    const clients = [apiClient(stack.url, LIMITED_KEY), apiClient(replica.url, LIMITED_KEY)];
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => (clients[i % 2] as ApiClient).get("/api/v1/agents")));
    const refused = responses.filter((r) => r.status === 429);
    // Burst 3 plus at most a couple refilled at 2/s while the requests ran.
    expect(responses.filter((r) => r.status === 200).length).toBeLessThanOrEqual(5);
    expect(refused.length).toBeGreaterThanOrEqual(5);
    for (const response of refused) {
      expect(response.body).toMatchObject({ error_code: "RATE_LIMITED", message: expect.any(String) });
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    // Other keys are not affected.
    expect((await apiClient(stack.url, OPERATOR_KEY).get("/api/v1/agents")).status).toBe(200);
  });

  it("a tenant over its queued-task quota gets 429 with Retry-After", async () => {
    const operator = apiClient(stack.url, OPERATOR_KEY);
    for (let i = 0; i < 3; i++)
      expect((await operator.post("/api/v1/tasks", { agent_name: "mock", tool_name: "echo", arguments: { i } })).status).toBe(201);
    const over = await operator.post("/api/v1/tasks", { agent_name: "mock", tool_name: "echo" });
    expect(over.status).toBe(429);
    expect(over.body).toMatchObject({ error_code: "RATE_LIMITED", details: { quota: 3, queued: 3 } });
    expect(over.headers.get("retry-after")).toBe("1");
    // The refusal added no job: admission and the add share one MULTI, and a refusal vetoes the add.
    const redis = connect();
    try {
      expect(await redis.llen(`${stack.prefix}:agent.mock:wait`)).toBe(3);
      expect((await operator.get("/api/v1/tasks")).body.tasks).toHaveLength(3);
    } finally {
      redis.disconnect();
    }
    // Cancelling a queued task frees its slot.
    const list = await operator.get("/api/v1/tasks");
    const first = list.body.tasks[0].task_id;
    expect((await operator.post(`/api/v1/tasks/${first}/cancel`)).status).toBe(200);
    expect((await operator.post("/api/v1/tasks", { agent_name: "mock", tool_name: "echo" })).status).toBe(201);
  });

  it("stdio registration can be switched off for everyone", async () => {
    const admin = apiClient(stack.url, ADMIN_KEY);
    const refused = await admin.post("/api/v1/agents", { name: "cmd", config: { type: "mcp", transport: "stdio", command: "node" } });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/allow_stdio_registration/);
    expect((await admin.post("/api/v1/agents", { name: "ok", config: { type: "mock" } })).status).toBe(201);
  });
});
