// A floor for queued LLM calls: a bare BullMQ worker process whose processor makes the chat
// completion with the openai SDK (no Switchyard). The bench adds jobs and waits for their
// completion events, so the figure is "durable queue hop + direct SDK call".
// usage: node raw-openai-worker.mjs <redisUrl> <prefix> <queue> <concurrency> <baseUrl>
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import OpenAI from "openai";

const [url, prefix, queue, concurrency, baseURL] = process.argv.slice(2);
const openai = new OpenAI({ baseURL, apiKey: "not-needed", maxRetries: 0 });
const connection = new Redis(url, { maxRetriesPerRequest: null });
const worker = new Worker(
  queue,
  async (job) => {
    const r = await openai.chat.completions.create({ model: job.data.arguments.model, messages: job.data.arguments.messages });
    const choice = r.choices[0];
    return { text: choice?.message.content ?? "", finish_reason: choice?.finish_reason, usage: r.usage, model: r.model };
  },
  { connection, prefix, concurrency: Number(concurrency) },
);
await worker.waitUntilReady();
console.log("raw openai worker ready");
process.on("SIGTERM", async () => {
  await worker.close();
  connection.disconnect();
  process.exit(0);
});
