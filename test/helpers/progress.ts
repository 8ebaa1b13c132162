import { QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { redisUrl } from "./redis.js";

/**
 * Every progress event of one agent queue, as the api's SSE relay receives them (the job's
 * progress travels on the queue's event stream). Listening starts before it resolves.
 */
export async function watchProgress(prefix: string, agent: string) {
  const connection = new Redis(redisUrl(), { maxRetriesPerRequest: null });
  const events = new QueueEvents(`agent.${agent}`, { connection, prefix });
  await events.waitUntilReady();
  const all: Array<{ jobId: string; data: any }> = [];
  events.on("progress", ({ jobId, data }) => {
    all.push({ jobId, data });
  });
  return {
    all: () => all.map((e) => e.data),
    of: (taskId: string) => all.filter((e) => e.jobId === taskId).map((e) => e.data),
    close: async () => {
      await events.close();
      connection.disconnect();
    },
  };
}
