import { TaskWaiter } from "@switchyard/api";
import { TaskQueues } from "@switchyard/queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, redisUrl } from "./helpers/redis.js";
import { type Stack, startStack } from "./helpers/stack.js";

describe("TaskWaiter (QueueEvents)", () => {
  let stack: Stack;
  const redis = connect();
  beforeAll(async () => {
    stack = await startStack({ coordinator: false, config: { limits: { shutdown_timeout_ms: 200 }, agents: { mock: { type: "mock" } } } });
  });
  afterAll(async () => {
    await stack?.close();
    redis.disconnect();
  });

  it("a fresh waiter sees tasks that finish while its event stream is starting (25 in a row)", async () => {
    const queues = new TaskQueues({ connection: redis, prefix: stack.prefix });
    try {
      for (let i = 0; i < 25; i++) {
        const waiter = new TaskWaiter({ redisUrl: redisUrl(), prefix: stack.prefix, queues });
        try {
          const created = await stack.operator.post("/api/v1/tasks", { agent_name: "mock", tool_name: "echo", arguments: { i } });
          // A lost completion event would leave this wait hanging until its timeout.
          await waiter.wait("mock", created.body.task_id, { timeoutMs: 5_000 });
          expect((await stack.operator.get(`/api/v1/tasks/${created.body.task_id}`)).body.status).toBe("completed");
        } finally {
          await waiter.close();
        }
      }
    } finally {
      await queues.close();
    }
  });

  it("reports a task that failed as finished, and stops waiting when aborted", async () => {
    const queues = new TaskQueues({ connection: redis, prefix: stack.prefix });
    const waiter = new TaskWaiter({ redisUrl: redisUrl(), prefix: stack.prefix, queues });
    try {
      const failed = await stack.operator.post("/api/v1/tasks", { agent_name: "mock", tool_name: "fail", arguments: { message: "no" } });
      await waiter.wait("mock", failed.body.task_id, { timeoutMs: 5_000 });
      expect((await stack.operator.get(`/api/v1/tasks/${failed.body.task_id}`)).body.status).toBe("failed");

      const slow = await stack.operator.post("/api/v1/tasks", { agent_name: "mock", tool_name: "sleep", arguments: { ms: 10_000 } });
      const controller = new AbortController();
      const waiting = waiter.wait("mock", slow.body.task_id, { timeoutMs: 20_000, signal: controller.signal });
      controller.abort();
      await expect(waiting).rejects.toMatchObject({ code: "CANCELLED" });
    } finally {
      await waiter.close();
      await queues.close();
    }
  });
});
