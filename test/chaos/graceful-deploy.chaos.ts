import { expect, it } from "vitest";
import { redisUrl } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";
import { inParallel, startApi, startWorker, stop, writeClusterConfig } from "./cluster.js";
import { report } from "./report.js";

/**
 * A rolling deploy: SIGTERM a worker under load. Short tasks it is running finish; long ones
 * outlast the shutdown budget and are handed back at once (not left to stall); everything
 * completes on the other worker, and the stopped worker exits 0 within its budget.
 */
it("SIGTERM of a worker under load: in-flight tasks finish or are handed back", async () => {
  const url = redisUrl();
  const { file } = writeClusterConfig({ limits: { shutdown_timeout_ms: 1_500, lock_duration_ms: 30_000, stalled_interval_ms: 15_000 } });
  const api = await startApi(file, url);
  const leaving = await startWorker(file, url);
  const staying = await startWorker(file, url);
  try {
    const ids = await inParallel(300, 30, async (i) => {
      // Every tenth task runs longer than the shutdown budget.
      const ms = i % 10 === 0 ? 4_000 : 300;
      return (await api.client.post("/api/v1/tasks", { agent_name: "mock", tool_name: "sleep", arguments: { ms } })).body.task_id as string;
    });
    // Stop the worker while it has work in hand.
    await waitFor(async () => (await api.client.get("/api/v1/tasks?status=running&limit=5")).body.tasks.length >= 5, {
      what: "running tasks",
    });
    const stopAt = Date.now();
    leaving.child.kill("SIGTERM");
    const exit = await leaving.exited;
    const stopMs = Date.now() - stopAt;

    const views = await waitFor(
      async () => {
        const all = await inParallel(ids.length, 32, async (i) => (await api.client.get(`/api/v1/tasks/${ids[i]}`)).body);
        return all.every((v) => v.status === "completed") ? all : undefined;
      },
      // Far below the 30 s lock: handed-back tasks must not wait for stalled-job recovery.
      { timeoutMs: 20_000, intervalMs: 250, what: "all tasks to complete on the remaining worker" },
    );
    const handedBack = views.filter((v) => v.attempts > 1).length;
    report({
      scenario: "worker SIGTERM (rolling deploy)",
      operations: ids.length,
      faults_injected: 1,
      tasks_accepted: ids.length,
      tasks_completed: views.length,
      lost: ids.length - views.length,
      duplicates: handedBack,
      violations: exit.code === 0 ? 0 : 1,
      stop_ms: stopMs,
    });
    expect(exit.code).toBe(0);
    expect(stopMs).toBeLessThan(1_500 + 2_000 + 2_000);
    expect(handedBack).toBeGreaterThan(0);
  } finally {
    await Promise.all([stop(leaving), stop(staying), stop(api.process)]);
  }
});
