// Scenario 4 (LLM proxying): a chat completion against a local OpenAI-compatible server
// (examples/local-llm-server.mjs), directly with the `openai` SDK and through Switchyard (the
// openai agent's `chat_completion` tool via POST /api/v1/tools/{agent}/{tool}/invoke), beside the
// floors under any queued call (bench/lib/floors.mjs). All paths are up at once and their serial
// samples interleaved (comparePaths), so the comparison holds on a noisy machine.
import path from "node:path";
import OpenAI from "openai";
import { ADMIN_KEY, benchRedis, ROOT, startScript, startSwitchyard, stopProcess } from "../lib/env.mjs";
import { startQueueFloors } from "../lib/floors.mjs";
import { keepAliveClient } from "../lib/http.mjs";
import { comparePaths, comparisonRows } from "../lib/measure.mjs";
import { floorSummary, printTable } from "../lib/stats.mjs";

const SERIAL = Number(process.env.BENCH_LLM_CALLS ?? 1_000);
const LOAD = Number(process.env.BENCH_LLM_LOAD ?? 2_000);
const CONCURRENCY = Number(process.env.BENCH_LLM_CONCURRENCY ?? 16);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1_000);

export async function run() {
  const sizes = { serial: SERIAL, load: LOAD, concurrency: CONCURRENCY, warmup: WARMUP };
  const model = await startScript(path.join(ROOT, "examples/local-llm-server.mjs"), ["--port", "0"], {}, /listening on (http:\/\/\S+)/);
  const modelUrl = model.match[1];
  const messages = (i) => [{ role: "user", content: `hello number ${i}` }];
  const redis = await benchRedis();
  let sy;
  let client;
  let floors;
  let results;
  try {
    const openai = new OpenAI({ baseURL: modelUrl, apiKey: "not-needed", maxRetries: 0 });
    sy = await startSwitchyard(redis.url, redis.dir, {
      prefix: "syllm",
      agents: { local: { type: "openai", base_url: modelUrl, api_key: "not-needed", model: "switchyard-local", concurrency: 50 } },
    });
    client = keepAliveClient(sy.url, ADMIN_KEY, CONCURRENCY);
    floors = await startQueueFloors(redis.url, {
      prefix: "rawllm",
      worker: "raw-openai-worker.mjs",
      args: [modelUrl],
      sockets: CONCURRENCY,
      job: (i) => ({ tool: "chat_completion", arguments: { model: "switchyard-local", messages: messages(i) } }),
    });
    results = await comparePaths(
      [
        [
          "direct openai SDK chat.completions.create",
          async (i) => {
            const r = await openai.chat.completions.create({ model: "switchyard-local", messages: messages(i) });
            if (!r.choices[0]?.message) throw new Error("no message");
          },
        ],
        [
          "Switchyard POST /tools/local/chat_completion/invoke",
          async (i) => {
            const r = await client.request("POST", "/api/v1/tools/local/chat_completion/invoke", { arguments: { messages: messages(i) } });
            if (r.status !== 200) throw new Error(`HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
          },
        ],
        ["raw BullMQ → worker → openai SDK call (queue floor)", floors.queued],
        ["bare HTTP API → same queue floor (HTTP + queue floor)", floors.http],
      ],
      sizes,
    );
  } finally {
    client?.close();
    await floors?.stop();
    await sy?.stop();
    await redis.stop();
    await stopProcess(model.child);
  }
  const rows = comparisonRows(results, CONCURRENCY);
  printTable(
    `LLM proxying: local OpenAI-compatible server; ${SERIAL} serial requests (interleaved), then ${LOAD} at concurrency ${CONCURRENCY}`,
    rows,
  );
  printTable("Target: LLM proxying ≤ 2 ms p50 added", [floorSummary("LLM", rows[1]["added p50 ms"], rows[2], rows[3])]);
  return { rows, config: sizes };
}
