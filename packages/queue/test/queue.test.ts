import {
  agentFromQueueName,
  agentQueueName,
  TASK_BACKOFF_TYPE,
  taskBackoffStrategy,
  taskJobOptions,
  taskStatusOf,
} from "@switchyard/queue";
import { describe, expect, it } from "vitest";

describe("task job options", () => {
  it("maps priority 1 to BullMQ's unprioritized fast path and p>1 to p-1", () => {
    const base = { taskId: "tsk_x", maxAttempts: 3, backoffMs: 100, retentionSeconds: 60, retentionCount: 10 };
    expect(taskJobOptions({ ...base, priority: 1 })).not.toHaveProperty("priority");
    expect(taskJobOptions({ ...base, priority: 5 }).priority).toBe(4);
    expect(taskJobOptions({ ...base, priority: 1 })).toMatchObject({
      jobId: "tsk_x",
      attempts: 3,
      backoff: { type: TASK_BACKOFF_TYPE, delay: 100 },
      removeOnComplete: { age: 60, count: 10 },
      removeOnFail: { age: 60, count: 10 },
    });
  });

  it("queue names round-trip", () => {
    expect(agentFromQueueName(agentQueueName("my-agent_1"))).toBe("my-agent_1");
    expect(agentFromQueueName("coordinator")).toBeUndefined();
  });
});

describe("backoff", () => {
  const job = { opts: { backoff: { delay: 1_000 } } };
  it("honours an error's Retry-After", () => {
    const error = Object.assign(new Error("429"), { retryAfterMs: 7_000 });
    expect(taskBackoffStrategy(1, TASK_BACKOFF_TYPE, error, job)).toBe(7_000);
  });
  it("is exponential with jitter within ±50%", () => {
    for (let attempt = 1; attempt <= 5; attempt++) {
      const delay = taskBackoffStrategy(attempt, TASK_BACKOFF_TYPE, new Error("x"), job);
      const expected = 1_000 * 2 ** (attempt - 1);
      expect(delay).toBeGreaterThanOrEqual(expected * 0.5);
      expect(delay).toBeLessThanOrEqual(expected * 1.5);
    }
  });
  it("caps at ten minutes", () => {
    expect(taskBackoffStrategy(40, TASK_BACKOFF_TYPE, new Error("x"), job)).toBeLessThanOrEqual(900_000);
  });
});

describe("task status", () => {
  it("maps BullMQ states", () => {
    expect(taskStatusOf("waiting", undefined)).toBe("queued");
    expect(taskStatusOf("prioritized", undefined)).toBe("queued");
    expect(taskStatusOf("delayed", "TOOL_ERROR: retrying")).toBe("queued");
    expect(taskStatusOf("active", undefined)).toBe("running");
    expect(taskStatusOf("completed", undefined)).toBe("completed");
    expect(taskStatusOf("failed", "TOOL_ERROR: boom")).toBe("failed");
    expect(taskStatusOf("failed", "CANCELLED: by user")).toBe("cancelled");
    expect(taskStatusOf("unknown", undefined)).toBeUndefined();
  });
});
