// The floor: a bare BullMQ worker process with a no-op processor.
// usage: node raw-worker.mjs <redisUrl> <prefix> <queue> <concurrency>
import { Worker } from "bullmq";
import { Redis } from "ioredis";

const [url, prefix, queue, concurrency] = process.argv.slice(2);
const connection = new Redis(url, { maxRetriesPerRequest: null });
const worker = new Worker(queue, async (job) => ({ echo: job.data.arguments }), { connection, prefix, concurrency: Number(concurrency) });
await worker.waitUntilReady();
console.log("raw worker ready");
process.on("SIGTERM", async () => {
  await worker.close();
  connection.disconnect();
  process.exit(0);
});
