// Floors under a queued call, measured with the same harness as Switchyard:
//   queue floor        — Queue.add in the bench process → a bare BullMQ worker process that makes
//                        the call with the SDK → the `completed` event read by the bench;
//   HTTP + queue floor — the same through a bare Express API (bench/lib/bare-api.mjs /invoke),
//                        i.e. the least any HTTP API over a durable queue can add.
import path from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { completionWatcher } from "./completions.mjs";
import { ADMIN_KEY, ROOT, startScript, stopProcess } from "./env.mjs";
import { keepAliveClient } from "./http.mjs";

/**
 * Starts `worker` (a bench/lib script taking <redisUrl> <prefix> <queue> <concurrency> ...args)
 * and a bare API on its own prefix. Returns the two paths as `call(i)` functions for `job(i)` =
 * {tool, arguments}, and `stop`.
 */
export async function startQueueFloors(redisUrl, { prefix, worker, args, concurrency = 50, sockets = 16, job }) {
  const queueName = "agent.floor";
  const started = [];
  const cleanups = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await Promise.all(started.splice(0).map((p) => stopProcess(p.child)));
  };
  try {
    started.push(
      await startScript(path.join(ROOT, "bench/lib", worker), [redisUrl, prefix, queueName, String(concurrency), ...args], {}, /ready/),
    );
    const api = await startScript(
      path.join(ROOT, "bench/lib/bare-api.mjs"),
      [redisUrl, prefix, queueName],
      { JOB_OPTIONS: JSON.stringify({ removeOnComplete: { count: 10_000 } }) },
      /bare api (http:\/\/\S+)/,
    );
    started.push(api);
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const queue = new Queue(queueName, { connection, prefix });
    const watcher = await completionWatcher(redisUrl, prefix, queueName);
    const client = keepAliveClient(api.match[1], ADMIN_KEY, sockets);
    cleanups.push(async () => {
      client.close();
      await watcher.close();
      await queue.close();
      connection.disconnect();
    });
    return {
      queued: async (i) => {
        const { tool, arguments: a } = job(i);
        const added = await queue.add(tool, { tool, arguments: a }, { removeOnComplete: { count: 10_000 } });
        const done = await watcher.wait(added.id);
        if (!done.ok) throw new Error(done.failedReason);
      },
      http: async (i) => {
        const { tool, arguments: a } = job(i);
        const r = await client.request("POST", `/invoke/${tool}`, { arguments: a });
        if (r.status !== 200) throw new Error(`HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
