import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { type CliProcess, spawnCli } from "./helpers/cli.js";
import { connect, redisUrl } from "./helpers/redis.js";
import { type Stack, startStack } from "./helpers/stack.js";
import { waitFor } from "./helpers/wait.js";

/**
 * A worker process killed with SIGKILL mid-task loses nothing: its locks lapse, BullMQ's stalled
 * check returns the tasks to the queue, and a second worker process completes every one exactly once.
 */
describe("worker killed mid-task", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "sy-crash-"));
  const workers: CliProcess[] = [];
  const redis = connect();
  const blocking = new Redis(redisUrl(), { maxRetriesPerRequest: null });
  let stack: Stack | undefined;
  let events: QueueEvents | undefined;

  afterAll(async () => {
    for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill("SIGKILL");
    await events?.close();
    await stack?.close();
    redis.disconnect();
    blocking.disconnect();
  });

  it("all 100 tasks complete on a second worker, none lost, none completed twice", async () => {
    const limits = { lock_duration_ms: 1_000, stalled_interval_ms: 500 };
    stack = await startStack({ worker: false, config: { agents: { mock: { type: "mock", concurrency: 100 } }, limits } });
    const configFile = path.join(dir, "switchyard.yaml");
    writeFileSync(
      configFile,
      [
        "redis:",
        `  prefix: ${stack.prefix}`,
        "limits:",
        `  lock_duration_ms: ${limits.lock_duration_ms}`,
        `  stalled_interval_ms: ${limits.stalled_interval_ms}`,
        "agents:",
        "  mock:",
        "    type: mock",
        "    concurrency: 100",
      ].join("\n"),
    );
    const startWorker = async () => {
      const worker = spawnCli(["worker", "--config", configFile], { env: { REDIS_URL: redisUrl() } });
      workers.push(worker);
      await worker.waitFor(/worker ready/);
      return worker;
    };

    // Every completion BullMQ records, counted per task from the queue's event stream.
    const completions = new Map<string, number>();
    events = new QueueEvents("agent.mock", { connection: blocking, prefix: stack.prefix, lastEventId: "0-0" });
    events.on("completed", ({ jobId }) => completions.set(jobId, (completions.get(jobId) ?? 0) + 1));
    await events.waitUntilReady();

    const first = await startWorker();
    const submitted = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        stack?.operator.post("/api/v1/tasks", { agent_name: "mock", tool_name: "sleep", arguments: { ms: 6_000 + i } }),
      ),
    );
    const ids = submitted.map((r) => r?.body.task_id as string);
    expect(new Set(ids).size).toBe(100);

    const queue = new Queue("agent.mock", { connection: redis, prefix: stack.prefix });
    // Tasks last 6 s, so on a busy machine all 100 are still running when the last one starts.
    await waitFor(async () => (await queue.getJobCounts("active")).active === 100, { timeoutMs: 30_000, what: "all 100 tasks running" });
    first.child.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
    expect(completions.size).toBe(0);

    await startWorker();
    const views = await waitFor(
      async () => {
        const all = await Promise.all(ids.map(async (id) => (await stack?.viewer.get(`/api/v1/tasks/${id}`))?.body));
        return all.every((view) => view.status === "completed") ? all : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: "every task completed" },
    );
    for (const [i, view] of views.entries()) {
      expect(view.arguments.ms).toBe(6_000 + i);
      expect(view.result.slept_ms).toBeGreaterThanOrEqual(6_000 + i - 5);
      // The lost run shows as an extra attempt.
      expect(view.attempts).toBeGreaterThanOrEqual(2);
    }
    await waitFor(() => completions.size === 100, { what: "100 completion events" });
    expect([...completions.values()].every((count) => count === 1)).toBe(true);
    expect(ids.every((id) => completions.get(id) === 1)).toBe(true);
    await queue.close();
  }, 90_000);
});
