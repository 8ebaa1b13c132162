import { Queue, QueueEvents } from "bullmq";
import { expect, it } from "vitest";
import type { CliProcess } from "../helpers/cli.js";
import { connect, connectBlocking, redisUrl } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";
import { inParallel, startApi, startWorker, stop, writeClusterConfig } from "./cluster.js";
import { report } from "./report.js";

const TASKS = Number(process.env.CHAOS_TASKS ?? 5_000);

/**
 * Workers SIGKILLed every 2 s while 5,000 tasks run, retries allowed: every accepted task ends
 * completed, none is lost, and a task runs again only when a kill interrupted it.
 */
it(`worker processes SIGKILLed every 2 s during ${TASKS} tasks lose nothing`, async () => {
  const url = redisUrl();
  const { file, prefix } = writeClusterConfig();
  const api = await startApi(file, url);
  const workers: CliProcess[] = [await startWorker(file, url), await startWorker(file, url)];
  const redis = connect();
  const queue = new Queue("agent.mock", { connection: redis, prefix });
  const events = new QueueEvents("agent.mock", { connection: connectBlocking(), prefix });
  const completions = new Map<string, number>();
  events.on("completed", ({ jobId }) => completions.set(jobId, (completions.get(jobId) ?? 0) + 1));
  await events.waitUntilReady();

  let kills = 0;
  let killing = true;
  const killer = (async () => {
    while (killing) {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      if (!killing) break;
      const victim = workers.shift();
      if (victim) {
        victim.child.kill("SIGKILL");
        await victim.exited;
        kills++;
      }
      workers.push(await startWorker(file, url));
    }
  })();

  try {
    const accepted: string[] = [];
    let rejected = 0;
    await inParallel(TASKS, 50, async (i) => {
      const response = await api.client.post("/api/v1/tasks", {
        agent_name: "mock",
        tool_name: "sleep",
        arguments: { ms: 100 + (i % 200) },
      });
      if (response.status === 201) accepted.push(response.body.task_id);
      else rejected++;
    });
    expect(rejected).toBe(0);
    // Keep killing until the work is done, so kills land mid-task.
    await waitFor(async () => (await queue.getJobCounts("completed")).completed >= accepted.length, {
      timeoutMs: 240_000,
      intervalMs: 250,
      what: "all tasks to complete",
    });
    killing = false;
    await killer;

    const views = await inParallel(accepted.length, 32, async (i) => (await api.client.get(`/api/v1/tasks/${accepted[i]}`)).body);
    const completed = views.filter((v) => v.status === "completed").length;
    const rerun = views.filter((v) => v.attempts > 1).length;
    await waitFor(() => completions.size >= accepted.length, { timeoutMs: 10_000, what: "completion events" });
    const completedTwice = [...completions.values()].filter((n) => n > 1).length;
    report({
      scenario: "worker SIGKILL every 2 s",
      operations: TASKS,
      faults_injected: kills,
      tasks_accepted: accepted.length,
      tasks_completed: completed,
      lost: accepted.length - completed,
      duplicates: rerun,
      violations: completedTwice,
    });
    expect(kills).toBeGreaterThanOrEqual(2);
    expect(completed).toBe(accepted.length);
    expect(completedTwice).toBe(0);
  } finally {
    killing = false;
    await killer.catch(() => {});
    await events.close();
    await queue.close();
    redis.disconnect();
    await Promise.all([...workers.map((w) => stop(w, "SIGKILL")), stop(api.process)]);
  }
});
