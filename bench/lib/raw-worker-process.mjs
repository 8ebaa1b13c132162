// The shell every floor worker shares: a bare BullMQ Worker process (no Switchyard) on
// <redisUrl> <prefix> <queue> <concurrency>, the rest of argv left to the caller. Prints
// "<name> ready" once it takes jobs (startScript waits for it) and closes cleanly on SIGTERM.
import { Worker } from "bullmq";
import { Redis } from "ioredis";

/**
 * `setup(extraArgs)` resolves to `{ processor, close? }`: the job processor and anything of its
 * own to close after the worker.
 */
export async function runRawWorker(name, setup) {
  const [url, prefix, queue, concurrency, ...extra] = process.argv.slice(2);
  const { processor, close } = await setup(extra);
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const worker = new Worker(queue, processor, { connection, prefix, concurrency: Number(concurrency) });
  await worker.waitUntilReady();
  console.log(`${name} ready`);
  process.on("SIGTERM", async () => {
    await worker.close();
    await close?.();
    connection.disconnect();
    process.exit(0);
  });
}
