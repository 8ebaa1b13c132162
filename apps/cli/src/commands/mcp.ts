import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { ownSignalFetch } from "@switchyard/mcp";
import type { Env } from "../env.js";
import { UsageError } from "../runtime.js";

export interface McpCommandOptions {
  url?: string;
}

/**
 * `switchyard mcp`: Switchyard as a stdio MCP server for desktop clients (Claude Desktop, IDEs)
 * that launch a command rather than connect to a URL. It holds no state and no Redis connection:
 * it relays tools/list and tools/call to a running Switchyard's `/mcp` endpoint
 * (SWITCHYARD_URL, authenticated with SWITCHYARD_API_KEY), so it sees exactly what that key sees.
 * stdout carries the protocol; nothing else is written there.
 */
export async function mcpCommand(options: McpCommandOptions, env: Env): Promise<void> {
  const base = options.url ?? env.SWITCHYARD_URL;
  if (!base) throw new UsageError("`switchyard mcp` needs SWITCHYARD_URL (the running api, e.g. http://127.0.0.1:8080)");
  if (!env.SWITCHYARD_API_KEY) throw new UsageError("`switchyard mcp` needs SWITCHYARD_API_KEY");

  const upstream = new Client({ name: "switchyard-stdio", version: "0.1.0" });
  await upstream.connect(
    new StreamableHTTPClientTransport(new URL("/mcp", base), {
      requestInit: { headers: { Authorization: `Bearer ${env.SWITCHYARD_API_KEY}` } },
      // One signal per request: a long-lived relay makes many calls (see ownSignalFetch).
      fetch: ownSignalFetch,
    }),
  );

  const server = new Server(
    { name: "switchyard", version: "0.1.0" },
    { capabilities: { tools: {} }, ...(upstream.getInstructions() ? { instructions: upstream.getInstructions() } : {}) },
  );
  server.setRequestHandler(ListToolsRequestSchema, (request) => upstream.listTools(request.params));
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
    const token = request.params._meta?.progressToken;
    return upstream.callTool(request.params, undefined, {
      signal: extra.signal,
      // Queued tasks may take long; the Switchyard side bounds the wait by the task's own budget.
      timeout: 3_600_000,
      ...(token !== undefined
        ? {
            onprogress: (progress) => {
              extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, ...progress } }).catch(() => {});
            },
          }
        : {}),
    });
  });

  const transport = new StdioServerTransport();
  const stop = () => {
    void Promise.allSettled([server.close(), upstream.close()]).then(() => process.exit(0));
  };
  transport.onclose = stop;
  process.stdin.on("end", stop);
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  await server.connect(transport);
}
