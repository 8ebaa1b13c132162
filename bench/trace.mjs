#!/usr/bin/env node
// Which Redis commands one operation costs, and from which process connection:
//   node bench/trace.mjs [task|invoke|llm]   (after `npm run build`; llm: chat_completion on a local model server)
// Starts its own Redis, one worker and one api, warms up, then MONITORs one operation and prints
// every command in order with the connection's client name, then a count per connection.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { ADMIN_KEY, benchRedis, ROOT, startScript, startSwitchyard, stopProcess } from "./lib/env.mjs";
import { keepAliveClient } from "./lib/http.mjs";

const what = process.argv[2] ?? "task";
const redis = await benchRedis();
const dir = mkdtempSync(path.join(tmpdir(), "sy-trace-"));
const model = await startScript(path.join(ROOT, "examples/local-llm-server.mjs"), ["--port", "0"], {}, /listening on (http:\/\/\S+)/);
const stack = await startSwitchyard(redis.url, dir, {
  prefix: "sy",
  agents: {
    mock: { type: "mock", concurrency: 10 },
    everything: { type: "mcp", transport: "stdio", command: "npx", args: ["-y", "@modelcontextprotocol/server-everything"] },
    local: { type: "openai", base_url: model.match[1], api_key: "not-needed", model: "switchyard-local" },
  },
});
const client = keepAliveClient(stack.url, ADMIN_KEY, 1);
const ops = {
  task: () => client.request("POST", "/api/v1/tasks", { agent_name: "mock", tool_name: "echo", arguments: { message: "hi" } }),
  invoke: () => client.request("POST", "/api/v1/tools/everything/echo/invoke", { arguments: { message: "hi" } }),
  llm: () =>
    client.request("POST", "/api/v1/tools/local/chat_completion/invoke", { arguments: { messages: [{ role: "user", content: "hi" }] } }),
};
const op = ops[what];
if (!op) throw new Error(`unknown operation '${what}' (task, invoke, llm)`);
for (let i = 0; i < Number(process.env.TRACE_WARMUP ?? 20); i++) await op();
await new Promise((r) => setTimeout(r, 300)); // let the warm-up's trailing writes (audit, events) settle
const admin = new Redis(redis.url);
const names = new Map();
for (const line of (await admin.client("LIST")).split("\n")) {
  const addr = /addr=(\S+)/.exec(line)?.[1];
  if (addr) names.set(addr, /name=(\S*)/.exec(line)?.[1] || "?");
}
const monitor = await new Redis(redis.url, { retryStrategy: () => null }).monitor();
monitor.on("error", () => {});
const lines = [];
monitor.on("monitor", (time, args, source) => lines.push({ time, args, source }));
await new Promise((r) => setTimeout(r, 100));
const res = await op();
await new Promise((r) => setTimeout(r, 300));
monitor.disconnect();
const t0 = Number(lines[0]?.time ?? 0);
const counts = new Map();
for (const { time, args, source } of lines) {
  const name = names.get(source) ?? source;
  if (name === "?" && args[0] === "client") continue;
  counts.set(name, (counts.get(name) ?? 0) + 1);
  if (name === "lua" && !process.env.TRACE_LUA) continue; // commands run inside scripts: TRACE_LUA=1 shows them
  const shown = args
    .map((a) => (a.length > 40 ? `${a.slice(0, 37)}…` : a))
    .slice(0, 6)
    .join(" ");
  console.log(`${((Number(time) - t0) * 1000).toFixed(2).padStart(8)} ms  ${name.padEnd(28)} ${shown}`);
}
console.log(`\nHTTP ${res.status}; commands by connection ("lua": run inside scripts):`);
for (const [name, n] of counts) console.log(`${String(n).padStart(4)}  ${name}`);
client.close();
admin.disconnect();
await stack.stop();
await redis.stop();
await stopProcess(model.child);
