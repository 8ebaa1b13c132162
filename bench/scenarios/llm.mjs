// Scenario 4 (LLM proxying): a chat completion against a local OpenAI-compatible server
// (examples/local-llm-server.mjs), directly with the `openai` SDK and through Switchyard
// (the openai agent's `chat_completion` tool via POST /api/v1/tools/{agent}/{tool}/invoke).
import { spawn } from "node:child_process";
import path from "node:path";
import OpenAI from "openai";
import { ADMIN_KEY, benchRedis, ROOT, startSwitchyard, stopProcess } from "../lib/env.mjs";
import { keepAliveClient } from "../lib/http.mjs";
import { comparisonRows, latencyAndThroughput } from "../lib/measure.mjs";
import { printTable } from "../lib/stats.mjs";

const SERIAL = Number(process.env.BENCH_LLM_CALLS ?? 500);
const LOAD = Number(process.env.BENCH_LLM_LOAD ?? 2_000);
const CONCURRENCY = Number(process.env.BENCH_LLM_CONCURRENCY ?? 16);
const WARMUP = 100;

function startModelServer() {
  const child = spawn(process.execPath, [path.join(ROOT, "examples/local-llm-server.mjs"), "--port", "0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.once("exit", (code) => reject(new Error(`model server exited ${code}`)));
  });
}

export async function run() {
  const sizes = { serial: SERIAL, load: LOAD, concurrency: CONCURRENCY, warmup: WARMUP };
  const model = await startModelServer();
  const messages = (i) => [{ role: "user", content: `hello number ${i}` }];
  const results = [];
  const redis = await benchRedis();
  let sy;
  try {
    const openai = new OpenAI({ baseURL: model.url, apiKey: "not-needed", maxRetries: 0 });
    results.push([
      "direct openai SDK chat.completions.create",
      await latencyAndThroughput(async (i) => {
        const r = await openai.chat.completions.create({ model: "switchyard-local", messages: messages(i) });
        if (!r.choices[0]?.message) throw new Error("no message");
      }, sizes),
    ]);

    sy = await startSwitchyard(redis.url, redis.dir, {
      prefix: "syllm",
      agents: { local: { type: "openai", base_url: model.url, api_key: "not-needed", model: "switchyard-local", concurrency: 50 } },
    });
    const client = keepAliveClient(sy.url, ADMIN_KEY, CONCURRENCY);
    results.push([
      "Switchyard POST /tools/local/chat_completion/invoke",
      await latencyAndThroughput(async (i) => {
        const r = await client.request("POST", "/api/v1/tools/local/chat_completion/invoke", { arguments: { messages: messages(i) } });
        if (r.status !== 200) throw new Error(`HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
      }, sizes),
    ]);
    client.close();
  } finally {
    await sy?.stop();
    await redis.stop();
    await stopProcess(model.child);
  }
  const rows = comparisonRows(results, CONCURRENCY);
  printTable(`LLM proxying: local OpenAI-compatible server; ${SERIAL} serial requests, then ${LOAD} at concurrency ${CONCURRENCY}`, rows);
  const added = rows[1]["added p50 ms"];
  printTable("Target: LLM proxying ≤ 2 ms p50 added", [{ "added p50 ms": added, met: added <= 2 }]);
  return { rows, config: sizes };
}
