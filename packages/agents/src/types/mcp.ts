import type { McpAgentConfig } from "@switchyard/config";
import { type McpPromptDescriptor, type McpResourceDescriptor, NonRetryableError, type ToolDescriptor } from "@switchyard/core";
import { McpClient, ResultCache } from "@switchyard/mcp";
import type { AgentClient, AgentClientDeps, AgentHealth, ToolCallContext } from "../agent-client.js";

/** An MCP server (stdio, Streamable HTTP or SSE) as an agent. */
export class McpAgentClient implements AgentClient {
  readonly type = "mcp" as const;
  readonly client: McpClient;
  /** Results of tools the config marks `read_only` with a `cache_ttl_ms`. */
  readonly cache = new ResultCache();

  constructor(
    readonly name: string,
    private readonly config: McpAgentConfig,
    deps: AgentClientDeps,
  ) {
    this.client = new McpClient({
      name,
      config,
      baseDir: deps.baseDir,
      logger: deps.logger,
      onToolsChanged: () => {
        // A changed tool list may mean changed behaviour: cached answers are no longer trusted.
        this.cache.clear();
        deps.onToolsChanged();
      },
    });
  }

  start(): Promise<void> {
    return this.client.start();
  }

  listTools(): ToolDescriptor[] {
    return this.client.listTools();
  }

  listResources(): McpResourceDescriptor[] {
    return this.client.listResources();
  }

  listPrompts(): McpPromptDescriptor[] {
    return this.client.listPrompts();
  }

  async callTool(tool: string, args: Record<string, unknown>, context: ToolCallContext): Promise<unknown> {
    const policy = this.config.tools[tool];
    const ttl = policy?.read_only ? policy.cache_ttl_ms : 0;
    if (ttl > 0) {
      const hit = this.cache.get(tool, args);
      if (hit) return hit.value;
    }
    const result = await this.client.callTool(tool, args, {
      signal: context.signal,
      timeoutMs: context.timeoutMs,
      ...(context.emit
        ? { onProgress: (p: { progress: number; total?: number; message?: string }) => context.emit?.({ type: "progress", ...p }) }
        : {}),
    });
    if (result.isError) {
      // The tool ran and reported a failure: its own answer, not a transport fault. Not cached.
      const text = result.content
        .map((part) => (part.type === "text" ? part.text : ""))
        .join("\n")
        .trim();
      throw new NonRetryableError("TOOL_ERROR", text || `${this.name}.${tool} reported an error`, { details: { content: result.content } });
    }
    const value = {
      content: result.content,
      ...(result.structuredContent !== undefined ? { structured_content: result.structuredContent } : {}),
    };
    if (ttl > 0) this.cache.set(tool, args, value, ttl);
    return value;
  }

  health(): AgentHealth {
    if (this.client.breaker.state === "open") return { status: "down", reason: "circuit open" };
    return this.client.connected ? { status: "ok" } : { status: "down", reason: "not connected" };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
