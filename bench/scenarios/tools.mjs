// Scenario 3 (tool calls): server-everything's `echo` over stdio, called directly with the MCP SDK,
// through POST /api/v1/tools/{agent}/{tool}/invoke and through Switchyard's /mcp endpoint, beside
// the floors under any queued call (bench/lib/floors.mjs). All paths are up at once and their
// serial samples interleaved (comparePaths), so the comparison holds on a noisy machine.
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ownSignalFetch } from "@switchyard/mcp";
import { ADMIN_KEY, benchRedis, ROOT, startSwitchyard } from "../lib/env.mjs";
import { startQueueFloors } from "../lib/floors.mjs";
import { keepAliveClient } from "../lib/http.mjs";
import { comparePaths, comparisonRows } from "../lib/measure.mjs";
import { floorSummary, printTable } from "../lib/stats.mjs";

const SERIAL = Number(process.env.BENCH_TOOL_CALLS ?? 1_000);
const LOAD = Number(process.env.BENCH_TOOL_LOAD ?? 2_000);
const CONCURRENCY = Number(process.env.BENCH_TOOL_CONCURRENCY ?? 16);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1_000);
const SERVER = path.join(ROOT, "node_modules/@modelcontextprotocol/server-everything/dist/index.js");

export async function run() {
  const sizes = { serial: SERIAL, load: LOAD, concurrency: CONCURRENCY, warmup: WARMUP };
  const redis = await benchRedis();
  const direct = new Client({ name: "bench", version: "1" });
  let sy;
  let floors;
  let client;
  let mcp;
  let results;
  try {
    await direct.connect(new StdioClientTransport({ command: process.execPath, args: [SERVER, "stdio"], stderr: "ignore" }));
    sy = await startSwitchyard(redis.url, redis.dir, {
      prefix: "sytools",
      agents: { everything: { type: "mcp", command: process.execPath, args: [SERVER, "stdio"], ping_interval_ms: 0, concurrency: 50 } },
    });
    client = keepAliveClient(sy.url, ADMIN_KEY, CONCURRENCY);
    mcp = new Client({ name: "bench", version: "1" });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL("/mcp", sy.url), {
        requestInit: { headers: { authorization: `Bearer ${ADMIN_KEY}` } },
        // The SDK puts every request under one signal; thousands of calls would pile listeners on it.
        fetch: ownSignalFetch,
      }),
    );
    floors = await startQueueFloors(redis.url, {
      prefix: "rawtools",
      worker: "raw-mcp-worker.mjs",
      args: [SERVER],
      sockets: CONCURRENCY,
      job: (i) => ({ tool: "echo", arguments: { message: `m${i}` } }),
    });
    results = await comparePaths(
      [
        [
          "direct MCP SDK call (stdio)",
          async (i) => {
            const r = await direct.callTool({ name: "echo", arguments: { message: `m${i}` } });
            if (r.isError) throw new Error(JSON.stringify(r.content));
          },
        ],
        [
          "POST /api/v1/tools/everything/echo/invoke",
          async (i) => {
            const r = await client.request("POST", "/api/v1/tools/everything/echo/invoke", { arguments: { message: `m${i}` } });
            if (r.status !== 200) throw new Error(`HTTP ${r.status} ${JSON.stringify(r.body)}`);
          },
        ],
        [
          "Switchyard /mcp tools/call",
          async (i) => {
            const r = await mcp.callTool({ name: "everything__echo", arguments: { message: `m${i}` } });
            if (r.isError) throw new Error(JSON.stringify(r.content));
          },
        ],
        ["raw BullMQ → worker → MCP SDK call (queue floor)", floors.queued],
        ["bare HTTP API → same queue floor (HTTP + queue floor)", floors.http],
      ],
      sizes,
    );
  } finally {
    await mcp?.close();
    client?.close();
    await floors?.stop();
    await sy?.stop();
    await direct.close();
    await redis.stop();
  }
  const rows = comparisonRows(results, CONCURRENCY);
  printTable(
    `Tool calls: server-everything echo over stdio; ${SERIAL} serial calls (interleaved), then ${LOAD} at concurrency ${CONCURRENCY}`,
    rows,
  );
  printTable("Target: /invoke ≤ 2 ms p50 above a direct SDK call", [floorSummary("invoke", rows[1]["added p50 ms"], rows[3], rows[4])]);
  return { rows, config: sizes };
}
