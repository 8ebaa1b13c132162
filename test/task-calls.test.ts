import { TaskQueues } from "@switchyard/queue";
import { CatalogCache, CatalogStore, Keys } from "@switchyard/store";
import { type Actor, createTaskService, TaskCalls, TaskEventHub } from "@switchyard/tasks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, connectBlocking } from "./helpers/redis.js";
import { type Stack, startStack, waitForTask } from "./helpers/stack.js";

/** Submit-and-wait (REST /invoke, MCP tools/call) on the queue's event stream. */
describe("TaskCalls", () => {
  let stack: Stack;
  const redis = connect();
  const actor: Actor = { tenant: "default", key_id: "test" };
  beforeAll(async () => {
    stack = await startStack({ coordinator: false, config: { limits: { shutdown_timeout_ms: 200 }, agents: { mock: { type: "mock" } } } });
    actor.tenant = stack.config.auth.keys.find((k) => k.role === "operator")?.tenant ?? "default";
  });
  afterAll(async () => {
    await stack?.close();
    redis.disconnect();
  });

  /** A TaskCalls with its own (fresh) event hub, as a newly started api has. */
  function fresh() {
    const keys = new Keys(stack.prefix);
    const queues = new TaskQueues({ connection: redis, prefix: stack.prefix });
    const catalog = new CatalogCache(new CatalogStore(redis, keys));
    const { tasks } = createTaskService({ config: stack.config, redis, keys, queues, catalog });
    const events = new TaskEventHub({ prefix: stack.prefix, redis, connect: () => connectBlocking() });
    return {
      tasks,
      calls: new TaskCalls(tasks, events),
      close: async () => {
        await events.close();
        await queues.close();
      },
    };
  }

  it("a fresh event hub sees calls whose task finishes while its stream is starting (25 in a row)", async () => {
    for (let i = 0; i < 25; i++) {
      const { calls, close } = fresh();
      try {
        // A lost completion event would leave this wait running out (status 'queued'/'running').
        const { outcome } = await calls.call(actor, { agent_name: "mock", tool_name: "echo", arguments: { i } }, { waitMs: 10_000 });
        expect(outcome).toMatchObject({ status: "completed", result: { echo: { i } } });
      } finally {
        await close();
      }
    }
  });

  it("answers with the result, the task's error, the earlier task for a replayed key; stops waiting when aborted or out of time", async () => {
    const { calls, close } = fresh();
    try {
      const failed = await calls.call(actor, { agent_name: "mock", tool_name: "fail", arguments: { message: "no" } }, { waitMs: 10_000 });
      expect(failed.outcome).toMatchObject({ status: "failed", view: { error: { message: expect.stringContaining("no") } } });

      const first = await calls.call(
        actor,
        { agent_name: "mock", tool_name: "echo", arguments: { n: 1 } },
        { waitMs: 10_000, idempotencyKey: "k-1" },
      );
      const again = await calls.call(
        actor,
        { agent_name: "mock", tool_name: "echo", arguments: { n: 1 } },
        { waitMs: 10_000, idempotencyKey: "k-1" },
      );
      expect(again.created).toMatchObject({ task_id: first.created.task_id, replayed: true });
      expect(again.outcome).toMatchObject({ status: "completed", task_id: first.created.task_id, result: { echo: { n: 1 } } });

      const controller = new AbortController();
      const waiting = calls.call(
        actor,
        { agent_name: "mock", tool_name: "sleep", arguments: { ms: 1_500 } },
        { waitMs: 20_000, signal: controller.signal },
      );
      setImmediate(() => controller.abort());
      const aborted = await waiting;
      expect(["queued", "running"]).toContain(aborted.outcome.status);

      const short = await calls.call(actor, { agent_name: "mock", tool_name: "sleep", arguments: { ms: 1_500 } }, { waitMs: 50 });
      expect(["queued", "running"]).toContain(short.outcome.status);
      // The tasks go on after the wait.
      expect((await waitForTask(stack.operator, aborted.created.task_id)).status).toBe("completed");
      expect((await waitForTask(stack.operator, short.created.task_id)).status).toBe("completed");
    } finally {
      await close();
    }
  });
});
