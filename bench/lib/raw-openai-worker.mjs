// A floor for queued LLM calls: a bare BullMQ worker process whose processor makes the chat
// completion with the openai SDK (no Switchyard). The bench adds jobs and waits for their
// completion events, so the figure is "durable queue hop + direct SDK call".
// usage: node raw-openai-worker.mjs <redisUrl> <prefix> <queue> <concurrency> <baseUrl>
import OpenAI from "openai";
import { runRawWorker } from "./raw-worker-process.mjs";

await runRawWorker("raw openai worker", async ([baseURL]) => {
  const openai = new OpenAI({ baseURL, apiKey: "not-needed", maxRetries: 0 });
  return {
    processor: async (job) => {
      const r = await openai.chat.completions.create({ model: job.data.arguments.model, messages: job.data.arguments.messages });
      const choice = r.choices[0];
      return { text: choice?.message.content ?? "", finish_reason: choice?.finish_reason, usage: r.usage, model: r.model };
    },
  };
});
