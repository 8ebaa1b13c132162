// The floor: a bare BullMQ worker process with a no-op processor.
// usage: node raw-worker.mjs <redisUrl> <prefix> <queue> <concurrency>
import { runRawWorker } from "./raw-worker-process.mjs";

await runRawWorker("raw worker", async () => ({ processor: async (job) => ({ echo: job.data.arguments }) }));
