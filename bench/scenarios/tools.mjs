// Scenario 3 (tool calls): server-everything's `echo` over stdio, called directly with the MCP SDK,
// through POST /api/v1/tools/{agent}/{tool}/invoke and through Switchyard's /mcp endpoint.
import { spawn } from "node:child_process";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { completionWatcher } from "../lib/completions.mjs";
import { ADMIN_KEY, benchRedis, ROOT, startSwitchyard, stopProcess } from "../lib/env.mjs";
import { keepAliveClient } from "../lib/http.mjs";
import { comparisonRows, latencyAndThroughput } from "../lib/measure.mjs";
import { printTable, round } from "../lib/stats.mjs";

const SERIAL = Number(process.env.BENCH_TOOL_CALLS ?? 500);
const LOAD = Number(process.env.BENCH_TOOL_LOAD ?? 2_000);
const CONCURRENCY = Number(process.env.BENCH_TOOL_CONCURRENCY ?? 16);
const WARMUP = 100;
const SERVER = path.join(ROOT, "node_modules/@modelcontextprotocol/server-everything/dist/index.js");

export async function run() {
  const sizes = { serial: SERIAL, load: LOAD, concurrency: CONCURRENCY, warmup: WARMUP };
  const results = [];

  const direct = new Client({ name: "bench", version: "1" });
  await direct.connect(new StdioClientTransport({ command: process.execPath, args: [SERVER, "stdio"], stderr: "ignore" }));
  results.push([
    "direct MCP SDK call (stdio)",
    await latencyAndThroughput(async (i) => {
      const r = await direct.callTool({ name: "echo", arguments: { message: `m${i}` } });
      if (r.isError) throw new Error(JSON.stringify(r.content));
    }, sizes),
  ]);
  await direct.close();

  const redis = await benchRedis();
  const sy = await startSwitchyard(redis.url, redis.dir, {
    prefix: "sytools",
    agents: { everything: { type: "mcp", command: process.execPath, args: [SERVER, "stdio"], ping_interval_ms: 0, concurrency: 50 } },
  });
  try {
    const client = keepAliveClient(sy.url, ADMIN_KEY, CONCURRENCY);
    results.push([
      "POST /api/v1/tools/everything/echo/invoke",
      await latencyAndThroughput(async (i) => {
        const r = await client.request("POST", "/api/v1/tools/everything/echo/invoke", { arguments: { message: `m${i}` } });
        if (r.status !== 200) throw new Error(`HTTP ${r.status} ${JSON.stringify(r.body)}`);
      }, sizes),
    ]);
    client.close();

    const mcp = new Client({ name: "bench", version: "1" });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL("/mcp", sy.url), { requestInit: { headers: { authorization: `Bearer ${ADMIN_KEY}` } } }),
    );
    results.push([
      "Switchyard /mcp tools/call",
      await latencyAndThroughput(async (i) => {
        const r = await mcp.callTool({ name: "everything__echo", arguments: { message: `m${i}` } });
        if (r.isError) throw new Error(JSON.stringify(r.content));
      }, sizes),
    ]);
    await mcp.close();

    // The floor under any queued tool call: BullMQ add → a bare worker calling the SDK → completed.
    results.push(["raw BullMQ → worker → MCP SDK call (queue floor)", await queueFloor(redis.url, sizes)]);
  } finally {
    await sy.stop();
    await redis.stop();
  }
  const rows = comparisonRows(results, CONCURRENCY);
  printTable(`Tool calls: server-everything echo over stdio; ${SERIAL} serial calls, then ${LOAD} at concurrency ${CONCURRENCY}`, rows);
  const added = rows[1]["added p50 ms"];
  const floor = rows[3]["added p50 ms"];
  printTable("Target: /invoke ≤ 2 ms p50 above a direct SDK call", [
    {
      "invoke added p50 ms": added,
      met: added <= 2,
      "of which the queue floor adds": floor,
      "Switchyard over the queue floor": round(added - floor, 2),
    },
  ]);
  return { rows, config: sizes };
}

async function queueFloor(redisUrl, sizes) {
  const prefix = "rawtools";
  const name = "agent.everything";
  const child = spawn(process.execPath, [path.join(ROOT, "bench/lib/raw-mcp-worker.mjs"), redisUrl, prefix, name, "50", SERVER], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => d.toString().includes("ready") && resolve());
    child.once("exit", (code) => reject(new Error(`raw mcp worker exited ${code}`)));
  });
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection, prefix });
  const watcher = await completionWatcher(redisUrl, prefix, name);
  try {
    return await latencyAndThroughput(async (i) => {
      const job = await queue.add("echo", { tool: "echo", arguments: { message: `m${i}` } }, { removeOnComplete: { count: 10_000 } });
      const done = await watcher.wait(job.id);
      if (!done.ok) throw new Error(done.failedReason);
    }, sizes);
  } finally {
    await watcher.close();
    await queue.close();
    connection.disconnect();
    await stopProcess(child);
  }
}
