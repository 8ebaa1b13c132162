import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "./helpers/redis.js";
import { EVERYTHING_SERVER, type Stack, startStack, waitForTask } from "./helpers/stack.js";

describe("REST API basics", () => {
  let stack: Stack;
  const redis = connect();

  beforeAll(async () => {
    stack = await startStack({
      config: {
        agents: {
          mock: { type: "mock" },
          everything: { type: "mcp", command: "node", args: [EVERYTHING_SERVER, "stdio"] },
        },
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
    redis.disconnect();
  });

  /** Jobs in any state across the agent queues: proof that a refused request enqueued nothing. */
  async function jobCount(): Promise<number> {
    let total = 0;
    for (const agent of ["mock", "everything"]) {
      const queue = new Queue(`agent.${agent}`, { connection: redis, prefix: stack.prefix });
      const counts = await queue.getJobCounts();
      total += Object.values(counts).reduce((a, b) => a + b, 0);
      await queue.close();
    }
    return total;
  }

  it("health endpoints need no key", async () => {
    expect((await stack.anonymous.get("/healthz")).body).toEqual({ status: "ok" });
    const ready = await stack.anonymous.get("/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: "ready", checks: { redis: "ok", queues: "ok" } });
  });

  it("requests without a valid key get 401 JSON and reach no queue", async () => {
    const before = await jobCount();
    const body = { agent_name: "mock", tool_name: "echo", arguments: {} };
    for (const response of [
      await stack.anonymous.post("/api/v1/tasks", body),
      await stack.anonymous.post("/api/v1/tasks", body, { authorization: "Bearer not-a-real-key-000000" }),
      await stack.anonymous.post("/api/v1/tasks", body, { authorization: "Basic dXNlcjpwYXNz" }),
      await stack.anonymous.get("/api/v1/tools"),
      await stack.anonymous.get("/api/v1/tasks/tsk_01m7ye9k30ga7m5avtn3f0vnhe"),
    ]) {
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ error_code: "UNAUTHORIZED", message: expect.any(String) });
      expect(response.body).toHaveProperty("details");
      expect(response.headers.get("www-authenticate")).toContain("Bearer");
    }
    expect(await jobCount()).toBe(before);
  });

  it("malformed bodies get 400 JSON naming the bad field and reach no queue", async () => {
    const before = await jobCount();
    const cases: Array<[unknown, RegExp, string]> = [
      ["{not json", /not valid JSON/, "INVALID_JSON"],
      [{ tool_name: "echo" }, /^agent_name: required$/, "VALIDATION_FAILED"],
      [{ agent_name: "mock", tool_name: "echo", priority: "high" }, /^priority: /, "VALIDATION_FAILED"],
      [{ agent_name: "mock", tool_name: "echo", arguments: [] }, /^arguments: /, "VALIDATION_FAILED"],
      [{ agent_name: "mock", tool_name: "echo", extra: 1 }, /unknown field extra/, "VALIDATION_FAILED"],
      [{ agent_name: "mock", tool_name: "sleep", arguments: { ms: "soon" } }, /^arguments\.ms: must be integer/, "VALIDATION_FAILED"],
      [{ agent_name: "mock", tool_name: "sleep", arguments: {} }, /^arguments\.ms: must have required property/, "VALIDATION_FAILED"],
      ["[1,2]", /must be a JSON object/, "BAD_REQUEST"],
    ];
    for (const [body, message, code] of cases) {
      const response = await stack.operator.post("/api/v1/tasks", body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error_code).toBe(code);
      expect(response.body.message).toMatch(message);
    }
    expect(await jobCount()).toBe(before);
  });

  it("unknown agents, tools and routes are 404 JSON", async () => {
    expect((await stack.operator.post("/api/v1/tasks", { agent_name: "ghost", tool_name: "echo" })).body.error_code).toBe(
      "AGENT_NOT_FOUND",
    );
    expect((await stack.operator.post("/api/v1/tasks", { agent_name: "mock", tool_name: "nope" })).body.error_code).toBe("TOOL_NOT_FOUND");
    const route = await stack.operator.get("/api/v1/nothing-here");
    expect(route.status).toBe(404);
    expect(route.body.error_code).toBe("ROUTE_NOT_FOUND");
    const task = await stack.operator.get("/api/v1/tasks/tsk_00000000000000000000000000");
    expect(task.status).toBe(404);
    expect(task.body.error_code).toBe("TASK_NOT_FOUND");
  });

  it("a too-large body is 413", async () => {
    const response = await stack.operator.post("/api/v1/tasks", {
      agent_name: "mock",
      tool_name: "echo",
      arguments: { blob: "x".repeat(1_100_000) },
    });
    expect(response.status).toBe(413);
    expect(response.body.error_code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("lists the mock and MCP tools with their schemas", async () => {
    const { body } = await stack.viewer.get("/api/v1/tools");
    const byName = new Map(body.tools.map((t: { name: string }) => [t.name, t]));
    expect(byName.get("mock.sleep")).toMatchObject({ agent: "mock", tool: "sleep", input_schema: { required: ["ms"] } });
    expect(byName.get("everything.echo")).toMatchObject({ agent: "everything", tool: "echo" });
    // `/api` is an alias of `/api/v1`.
    expect((await stack.viewer.get("/api/tools")).body.tools.length).toBe(body.tools.length);
  });

  it("runs a mock task and an MCP task to completion", async () => {
    const echo = await stack.operator.post("/api/v1/tasks", { agent_name: "mock", tool_name: "echo", arguments: { message: "hello" } });
    expect(echo.status).toBe(201);
    expect(echo.body).toEqual({ task_id: expect.stringMatching(/^tsk_/), status: "queued", agent_name: "mock" });
    expect(echo.headers.get("location")).toBe(`/api/v1/tasks/${echo.body.task_id}`);
    const mcp = await stack.operator.post("/api/v1/tasks", {
      agent_name: "everything",
      tool_name: "echo",
      arguments: { message: "via mcp" },
    });
    expect(await waitForTask(stack.viewer, echo.body.task_id)).toMatchObject({
      task_id: echo.body.task_id,
      agent_name: "mock",
      tool_name: "echo",
      status: "completed",
      result: { echo: { message: "hello" } },
      attempts: 1,
      max_attempts: 3,
    });
    const mcpDone = await waitForTask(stack.viewer, mcp.body.task_id);
    expect(mcpDone.status).toBe("completed");
    expect(mcpDone.result.content[0].text).toContain("via mcp");
  });

  it("a failing tool fails the task with its error code; a retryable one is retried", async () => {
    const fail = await stack.operator.post("/api/v1/tasks", { agent_name: "mock", tool_name: "fail", arguments: { message: "boom" } });
    expect(await waitForTask(stack.viewer, fail.body.task_id)).toMatchObject({
      status: "failed",
      error: { code: "TOOL_ERROR", message: "boom" },
      attempts: 1,
    });
    const flaky = await stack.operator.post("/api/v1/tasks", {
      agent_name: "mock",
      tool_name: "fail",
      arguments: { fail_attempts: 1 },
      max_attempts: 3,
    });
    // backoff_ms defaults to 1 s: the retry lands after about a second.
    expect(await waitForTask(stack.viewer, flaky.body.task_id)).toMatchObject({
      status: "completed",
      result: { succeeded_on_attempt: 2 },
      attempts: 2,
    });
  });

  it("viewers cannot submit; other tenants cannot see a task", async () => {
    const denied = await stack.viewer.post("/api/v1/tasks", { agent_name: "mock", tool_name: "echo" });
    expect(denied.status).toBe(403);
    expect(denied.body.error_code).toBe("FORBIDDEN");
    const task = await stack.operator.post("/api/v1/tasks", { agent_name: "mock", tool_name: "echo" });
    const other = await stack.otherTenant.get(`/api/v1/tasks/${task.body.task_id}`);
    expect(other.status).toBe(404);
    expect((await stack.otherTenant.get("/api/v1/tasks")).body.tasks).toEqual([]);
  });

  it("a timed-out task fails with TIMEOUT and its work is aborted", async () => {
    const task = await stack.operator.post("/api/v1/tasks", {
      agent_name: "mock",
      tool_name: "sleep",
      arguments: { ms: 60_000 },
      timeout_ms: 200,
      max_attempts: 1,
    });
    const done = await waitForTask(stack.viewer, task.body.task_id);
    expect(done).toMatchObject({ status: "failed", error: { code: "TIMEOUT" } });
    expect(Date.parse(done.finished_at) - Date.parse(done.started_at)).toBeLessThan(5_000);
  });
});
