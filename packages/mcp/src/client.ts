import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { type CallToolResult, ErrorCode, McpError, ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import type { McpAgentConfig } from "@switchyard/config";
import { CancelledError, NonRetryableError, RetryableError, TimeoutError, type ToolDescriptor } from "@switchyard/core";
import { createTransport } from "./transport.js";

export interface McpLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface McpClientOptions {
  name: string;
  config: McpAgentConfig;
  baseDir: string;
  logger: McpLogger;
  /** Called after the server's tool list changed (and was re-read). */
  onToolsChanged?: (tools: ToolDescriptor[]) => void;
  /** First reconnect delay; doubles up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface CallOptions {
  signal: AbortSignal;
  timeoutMs: number;
  onProgress?: (progress: { progress: number; total?: number; message?: string }) => void;
}

type State = "idle" | "connecting" | "connected" | "closed";

/**
 * One live session with one MCP server, reconnecting (and for stdio, restarting the process)
 * with backoff whenever the connection drops, until {@link close}.
 */
export class McpClient {
  private client: Client | undefined;
  private transport: Transport | undefined;
  private state: State = "idle";
  private connecting: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private tools: ToolDescriptor[] = [];
  /** Times the connection was re-established after dropping. */
  restarts = 0;

  constructor(private readonly options: McpClientOptions) {}

  get connected(): boolean {
    return this.state === "connected";
  }

  /** Child process id of a stdio server, for tests and diagnostics. */
  get pid(): number | undefined {
    return this.transport instanceof StdioClientTransport ? (this.transport.pid ?? undefined) : undefined;
  }

  /**
   * Connects and reads the tool list. If the first connection fails it rejects, and keeps
   * trying in the background: `onToolsChanged` fires once it is up.
   */
  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (error) {
      this.failures++;
      this.scheduleReconnect();
      throw error;
    }
  }

  listTools(): ToolDescriptor[] {
    return this.tools;
  }

  async callTool(tool: string, args: Record<string, unknown>, options: CallOptions): Promise<CallToolResult> {
    if (this.state === "closed") throw new RetryableError("AGENT_UNAVAILABLE", `MCP server ${this.options.name} is shut down`);
    if (this.state !== "connected") await this.waitConnected(options.signal, options.timeoutMs);
    const client = this.client;
    if (!client) throw new RetryableError("AGENT_UNAVAILABLE", `MCP server ${this.options.name} is not connected`);
    try {
      const result = await client.callTool({ name: tool, arguments: args }, undefined, {
        signal: options.signal,
        timeout: options.timeoutMs,
        ...(options.onProgress ? { onprogress: options.onProgress, resetTimeoutOnProgress: false } : {}),
      });
      return result as CallToolResult;
    } catch (error) {
      throw this.translate(error, options);
    }
  }

  async close(): Promise<void> {
    this.state = "closed";
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.close().catch(() => {});
  }

  /** A method, not a field read, because close() may run while a connect is awaiting. */
  private isClosed(): boolean {
    return this.state === "closed";
  }

  private async connect(): Promise<void> {
    if (this.connecting) return this.connecting;
    this.connecting = this.doConnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    const { name, config, baseDir, logger } = this.options;
    this.state = "connecting";
    const transport = createTransport(config, { baseDir });
    const client = new Client({ name: "switchyard", version: "0.1.0" }, { capabilities: {} });
    if (transport instanceof StdioClientTransport) {
      transport.stderr?.on("data", (chunk: Buffer) =>
        logger.debug({ agent: name, stderr: chunk.toString().slice(0, 2_000) }, "mcp server stderr"),
      );
    }
    client.onclose = () => this.onDisconnect(client);
    client.onerror = (error) => logger.debug({ agent: name, err: error.message }, "mcp transport error");
    try {
      await client.connect(transport, { timeout: 30_000 });
      this.client = client;
      this.transport = transport;
      this.tools = await this.fetchTools(client);
      if (this.isClosed()) {
        await client.close();
        return;
      }
      this.state = "connected";
      this.failures = 0;
      client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
        this.tools = await this.fetchTools(client);
        this.options.onToolsChanged?.(this.tools);
      });
      logger.info({ agent: name, transport: config.transport, tools: this.tools.length }, "mcp server connected");
    } catch (error) {
      await client.close().catch(() => {});
      if (!this.isClosed()) this.state = "idle";
      throw new RetryableError("AGENT_UNAVAILABLE", `cannot connect to MCP server ${name}: ${(error as Error).message}`);
    }
  }

  private onDisconnect(client: Client): void {
    if (this.client !== client || this.state === "closed") return;
    this.client = undefined;
    this.state = "idle";
    this.options.logger.warn({ agent: this.options.name }, "mcp server disconnected; reconnecting");
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.state === "closed" || this.reconnectTimer) return;
    const initial = this.options.initialBackoffMs ?? 200;
    const max = this.options.maxBackoffMs ?? 30_000;
    const delay = Math.min(max, initial * 2 ** this.failures) * (0.75 + Math.random() * 0.5);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect().then(
        () => {
          this.restarts++;
          this.options.onToolsChanged?.(this.tools);
        },
        (error: Error) => {
          this.failures++;
          this.options.logger.warn({ agent: this.options.name, err: error.message }, "mcp reconnect failed");
          this.scheduleReconnect();
        },
      );
    }, delay);
    this.reconnectTimer.unref();
  }

  private async waitConnected(signal: AbortSignal, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + Math.min(timeoutMs, 30_000);
    if (this.state === "idle" && !this.reconnectTimer) this.scheduleReconnect();
    while (this.state !== "connected") {
      if (signal.aborted) throw new CancelledError();
      if (this.state === "closed" || Date.now() > deadline)
        throw new RetryableError("AGENT_UNAVAILABLE", `MCP server ${this.options.name} is not connected`);
      await (this.connecting ?? new Promise((resolve) => setTimeout(resolve, 50)).then(() => undefined)).catch(() => {});
    }
  }

  private async fetchTools(client: Client): Promise<ToolDescriptor[]> {
    const tools: ToolDescriptor[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : undefined);
      for (const tool of page.tools) {
        tools.push({
          name: tool.name,
          description: tool.description ?? "",
          input_schema: tool.inputSchema as Record<string, unknown>,
          ...(tool.annotations ? { annotations: tool.annotations as Record<string, unknown> } : {}),
        });
      }
      cursor = page.nextCursor;
    } while (cursor);
    return tools;
  }

  private translate(error: unknown, options: CallOptions): Error {
    if (options.signal.aborted) return options.signal.reason instanceof Error ? options.signal.reason : new CancelledError();
    if (error instanceof McpError) {
      switch (error.code) {
        case ErrorCode.RequestTimeout:
          return new TimeoutError(options.timeoutMs);
        case ErrorCode.ConnectionClosed:
          return new RetryableError("AGENT_UNAVAILABLE", `MCP server ${this.options.name} closed the connection during the call`);
        case ErrorCode.InvalidParams:
          return new NonRetryableError("VALIDATION_FAILED", error.message);
        case ErrorCode.MethodNotFound:
          return new NonRetryableError("TOOL_NOT_FOUND", error.message);
        default:
          return new RetryableError("TOOL_ERROR", error.message);
      }
    }
    return new RetryableError("AGENT_UNAVAILABLE", (error as Error).message ?? String(error));
  }
}
