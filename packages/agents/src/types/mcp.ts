import type { McpAgentConfig } from "@switchyard/config";
import { NonRetryableError, type ToolDescriptor } from "@switchyard/core";
import { McpClient } from "@switchyard/mcp";
import type { AgentClient, AgentClientDeps, AgentHealth, ToolCallContext } from "../agent-client.js";

/** An MCP server (stdio, Streamable HTTP or SSE) as an agent. */
export class McpAgentClient implements AgentClient {
  readonly type = "mcp" as const;
  readonly client: McpClient;

  constructor(
    readonly name: string,
    config: McpAgentConfig,
    deps: AgentClientDeps,
  ) {
    this.client = new McpClient({
      name,
      config,
      baseDir: deps.baseDir,
      logger: deps.logger,
      onToolsChanged: () => deps.onToolsChanged(),
    });
  }

  start(): Promise<void> {
    return this.client.start();
  }

  listTools(): ToolDescriptor[] {
    return this.client.listTools();
  }

  async callTool(tool: string, args: Record<string, unknown>, context: ToolCallContext): Promise<unknown> {
    const result = await this.client.callTool(tool, args, {
      signal: context.signal,
      timeoutMs: context.timeoutMs,
      ...(context.emit
        ? { onProgress: (p: { progress: number; total?: number; message?: string }) => context.emit?.({ type: "progress", ...p }) }
        : {}),
    });
    if (result.isError) {
      // The tool ran and reported a failure: its own answer, not a transport fault.
      const text = result.content
        .map((part) => (part.type === "text" ? part.text : ""))
        .join("\n")
        .trim();
      throw new NonRetryableError("TOOL_ERROR", text || `${this.name}.${tool} reported an error`, { details: { content: result.content } });
    }
    return {
      content: result.content,
      ...(result.structuredContent !== undefined ? { structured_content: result.structuredContent } : {}),
    };
  }

  health(): AgentHealth {
    return this.client.connected ? { status: "ok" } : { status: "down", reason: "not connected" };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
