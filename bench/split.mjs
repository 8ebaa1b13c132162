#!/usr/bin/env node
// Where a synchronous call's time goes, worker side vs api side (after `npm run build`):
//   node bench/split.mjs
// One stack (api + worker) serving an MCP agent (server-everything over stdio) and an openai
// agent (examples/local-llm-server.mjs). For each, two paths measured side by side, interleaved:
//   "worker alone" — a Switchyard task envelope added straight to the agent's queue, completion
//                    seen on the queue's event stream (no api);
//   "via /invoke"  — the same call through POST /api/v1/tools/{agent}/{tool}/invoke.
// The difference is what the api adds; "worker alone" compares with the queue floor of
// `npm run bench -- tools|llm`.
import path from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { completionWatcher } from "./lib/completions.mjs";
import { ADMIN_KEY, benchRedis, ROOT, startScript, startSwitchyard, stopProcess } from "./lib/env.mjs";
import { keepAliveClient } from "./lib/http.mjs";
import { comparePaths, comparisonRows } from "./lib/measure.mjs";
import { printTable } from "./lib/stats.mjs";

const SERVER = path.join(ROOT, "node_modules/@modelcontextprotocol/server-everything/dist/index.js");
const PREFIX = "sysplit";
const model = await startScript(path.join(ROOT, "examples/local-llm-server.mjs"), ["--port", "0"], {}, /listening on (http:\/\/\S+)/);
const redis = await benchRedis();
const sy = await startSwitchyard(redis.url, redis.dir, {
  prefix: PREFIX,
  agents: {
    local: { type: "openai", base_url: model.match[1], api_key: "not-needed", model: "switchyard-local", concurrency: 50 },
    everything: { type: "mcp", command: process.execPath, args: [SERVER, "stdio"], ping_interval_ms: 0, concurrency: 50 },
  },
});
const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
const agents = ["everything", "local"];
const queues = Object.fromEntries(agents.map((a) => [a, new Queue(`agent.${a}`, { connection, prefix: PREFIX })]));
const watchers = Object.fromEntries(
  await Promise.all(agents.map(async (a) => [a, await completionWatcher(redis.url, PREFIX, `agent.${a}`)])),
);
const client = keepAliveClient(sy.url, ADMIN_KEY, 4);

const alone = (agent, tool, args) => async (i) => {
  const data = {
    v: 1,
    task_id: `split-${i}-${Math.random().toString(36).slice(2)}`,
    tenant: "bench",
    agent,
    tool,
    arguments: args(i),
    timeout_ms: 30_000,
    priority: 1,
    created_at: Date.now(),
  };
  const job = await queues[agent].add(tool, data, { jobId: data.task_id, removeOnComplete: { count: 10_000 } });
  const done = await watchers[agent].wait(job.id);
  if (!done.ok) throw new Error(done.failedReason);
};
const invoke = (agent, tool, args) => async (i) => {
  const r = await client.request("POST", `/api/v1/tools/${agent}/${tool}/invoke`, { arguments: args(i) });
  if (r.status !== 200) throw new Error(`HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
};
const echo = (i) => ({ message: `m${i}` });
const chat = (i) => ({ messages: [{ role: "user", content: `hello number ${i}` }] });
try {
  const results = await comparePaths(
    [
      ["(zero: an empty operation)", async () => {}],
      ["MCP echo: worker alone", alone("everything", "echo", echo)],
      ["MCP echo: via /invoke", invoke("everything", "echo", echo)],
      ["LLM chat_completion: worker alone", alone("local", "chat_completion", chat)],
      ["LLM chat_completion: via /invoke", invoke("local", "chat_completion", chat)],
    ],
    { serial: 1_000, load: 200, concurrency: 4, warmup: 1_000 },
  );
  printTable(
    "Where the time goes: worker alone vs through the api (c=1 p50 is the figure; 'added' is over zero)",
    comparisonRows(results, 4),
  );
} finally {
  client.close();
  for (const w of Object.values(watchers)) await w.close();
  for (const q of Object.values(queues)) await q.close();
  connection.disconnect();
  await sy.stop();
  await redis.stop();
  await stopProcess(model.child);
}
