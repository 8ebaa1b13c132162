#!/usr/bin/env node
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
// Added latency of one MCP tool call through Switchyard (api → BullMQ → worker → MCP server →
// back) compared with calling the same server directly with the official SDK.
//
//   npm run build && node bench/mcp-latency.mjs [--calls 300] [--warmup 50]
//
// Uses REDIS_URL when set, else starts an embedded redis-server (needs redis-server on PATH).
// api and worker run in this process (same code as separate processes; one less network hop
// between them is not what is measured: every hop to Redis is real). Prints a Markdown table.
import path from "node:path";
import { parseArgs } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { startApiService } from "@switchyard/api";
import { parseConfigObject } from "@switchyard/config";
import { createLogger } from "@switchyard/observability";
import { startEmbeddedRedis } from "@switchyard/redis";
import { startWorkerService } from "@switchyard/worker";

const { values } = parseArgs({ options: { calls: { type: "string", default: "300" }, warmup: { type: "string", default: "50" } } });
const CALLS = Number(values.calls);
const WARMUP = Number(values.warmup);
const ROOT = path.resolve(import.meta.dirname, "..");
const SERVER = path.join(ROOT, "node_modules/@modelcontextprotocol/server-everything/dist/index.js");
const KEY = "bench-admin-key-0123456789";

async function measure(label, call) {
  for (let i = 0; i < WARMUP; i++) await call(i);
  const samples = [];
  for (let i = 0; i < CALLS; i++) {
    const started = performance.now();
    await call(i);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return { label, p50: at(0.5), p95: at(0.95), p99: at(0.99), mean };
}

async function main() {
  let redisUrl = process.env.REDIS_URL;
  let embedded;
  let dataDir;
  if (!redisUrl) {
    dataDir = mkdtempSync(path.join(tmpdir(), "sy-bench-"));
    embedded = await startEmbeddedRedis({ dir: dataDir, appendfsync: "everysec", searchPath: process.env.PATH });
    redisUrl = embedded.url;
  }
  const config = parseConfigObject(
    {
      redis: { prefix: `bench-${process.pid}` },
      auth: { keys: [{ key: KEY, role: "admin" }] },
      agents: { everything: { type: "mcp", command: process.execPath, args: [SERVER, "stdio"], ping_interval_ms: 0 } },
    },
    { env: {}, file: "bench" },
  );
  const logger = createLogger({ level: "warn" });

  // 1. Direct: the SDK on the same stdio server, no Switchyard.
  const direct = new Client({ name: "bench", version: "1" });
  await direct.connect(new StdioClientTransport({ command: process.execPath, args: [SERVER, "stdio"], stderr: "ignore" }));
  const results = [await measure("direct SDK call (stdio)", (i) => direct.callTool({ name: "echo", arguments: { message: `m${i}` } }))];
  await direct.close();

  // 2. Through Switchyard.
  const worker = await startWorkerService({ config, baseDir: ROOT, redisUrl, logger });
  const api = await startApiService({ config, redisUrl, logger, keys: config.auth.keys, host: "127.0.0.1", port: 0 });
  const headers = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };

  const mcp = new Client({ name: "bench", version: "1" });
  await mcp.connect(
    new StreamableHTTPClientTransport(new URL("/mcp", api.url), { requestInit: { headers: { authorization: `Bearer ${KEY}` } } }),
  );
  results.push(
    await measure("Switchyard /mcp tools/call (submit + QueueEvents wait)", async (i) => {
      const result = await mcp.callTool({ name: "everything__echo", arguments: { message: `m${i}` } });
      if (result.isError) throw new Error(JSON.stringify(result.content));
    }),
  );
  await mcp.close();

  results.push(
    await measure("Switchyard REST POST /tasks + GET poll every 2 ms", async (i) => {
      const created = await fetch(`${api.url}/api/v1/tasks`, {
        method: "POST",
        headers,
        body: JSON.stringify({ agent_name: "everything", tool_name: "echo", arguments: { message: `m${i}` } }),
      }).then((r) => r.json());
      for (;;) {
        const task = await fetch(`${api.url}/api/v1/tasks/${created.task_id}`, { headers }).then((r) => r.json());
        if (task.status === "completed") return;
        if (task.status === "failed") throw new Error(JSON.stringify(task.error));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }),
  );

  await api.close();
  await worker.close();
  await embedded?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });

  const base = results[0];
  const ms = (v) => v.toFixed(2);
  const lines = [
    `${CALLS} sequential calls of server-everything \`echo\` after ${WARMUP} warm-up calls; Node ${process.version}; ${new Date().toISOString()}`,
    "",
    "| path | p50 ms | p95 ms | p99 ms | mean ms | added p50 ms |",
    "|---|---:|---:|---:|---:|---:|",
    ...results.map(
      (r) => `| ${r.label} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.p99)} | ${ms(r.mean)} | ${r === base ? "—" : ms(r.p50 - base.p50)} |`,
    ),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
