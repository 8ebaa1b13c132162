// A floor for queued tool calls: a bare BullMQ worker process whose processor calls the MCP
// server's tool with the SDK over stdio (no Switchyard). The bench adds jobs and waits for their
// completion events, so the figure is "durable queue hop + direct SDK call".
// usage: node raw-mcp-worker.mjs <redisUrl> <prefix> <queue> <concurrency> <server.js>
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { runRawWorker } from "./raw-worker-process.mjs";

await runRawWorker("raw mcp worker", async ([server]) => {
  const mcp = new Client({ name: "bench-raw-worker", version: "1" });
  await mcp.connect(new StdioClientTransport({ command: process.execPath, args: [server, "stdio"], stderr: "ignore" }));
  return {
    processor: async (job) => {
      const result = await mcp.callTool({ name: job.data.tool, arguments: job.data.arguments });
      if (result.isError) throw new Error(JSON.stringify(result.content));
      return { content: result.content };
    },
    close: () => mcp.close(),
  };
});
