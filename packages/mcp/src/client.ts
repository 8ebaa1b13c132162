import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  type CallToolResult,
  CallToolResultSchema,
  ErrorCode,
  McpError,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { collectSecrets, type McpAgentConfig } from "@switchyard/config";
import {
  CancelledError,
  type McpPromptDescriptor,
  type McpResourceDescriptor,
  NonRetryableError,
  RetryableError,
  SwitchyardError,
  TimeoutError,
  type ToolDescriptor,
} from "@switchyard/core";
import { CircuitBreaker } from "./circuit-breaker.js";
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
  /** Called after the server's tool (or resource/prompt) lists changed, or after a reconnect. */
  onToolsChanged?: (tools: ToolDescriptor[]) => void;
}

export interface CallOptions {
  signal: AbortSignal;
  timeoutMs: number;
  onProgress?: (progress: { progress: number; total?: number; message?: string }) => void;
}

type State = "idle" | "connecting" | "connected" | "closed";

/**
 * One live session with one MCP server. Reconnects (for stdio: restarts the process) with
 * exponential backoff whenever the connection drops or the server stops answering pings, until
 * {@link close}. A circuit breaker makes calls fail fast, and stretches the reconnect delay, while
 * the server keeps failing.
 */
export class McpClient {
  private client: Client | undefined;
  private transport: Transport | undefined;
  /** A client whose initialize handshake is in progress. */
  private handshaking: Client | undefined;
  private state: State = "idle";
  private connecting: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private tools: ToolDescriptor[] = [];
  /** Tools the server runs only as MCP tasks (`execution.taskSupport: "required"`). */
  private taskOnly = new Set<string>();
  private resources: McpResourceDescriptor[] = [];
  private prompts: McpPromptDescriptor[] = [];
  readonly breaker: CircuitBreaker;
  /** Header values, tokens and env values: scrubbed from any error text we pass on. */
  private readonly secrets: string[];
  /** Times the connection was re-established after dropping. */
  restarts = 0;

  constructor(private readonly options: McpClientOptions) {
    this.breaker = new CircuitBreaker(options.config.circuit_failure_threshold, options.config.circuit_open_ms);
    this.secrets = [...collectSecrets(options.config)].sort((a, b) => b.length - a.length);
  }

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
      this.recordFailure();
      this.scheduleReconnect();
      throw error;
    }
  }

  listTools(): ToolDescriptor[] {
    return this.tools;
  }

  listResources(): McpResourceDescriptor[] {
    return this.resources;
  }

  listPrompts(): McpPromptDescriptor[] {
    return this.prompts;
  }

  async callTool(tool: string, args: Record<string, unknown>, options: CallOptions): Promise<CallToolResult> {
    if (this.state === "closed") throw new RetryableError("AGENT_UNAVAILABLE", `MCP server ${this.options.name} is shut down`);
    const openFor = this.breaker.openForMs();
    if (openFor > 0)
      throw new RetryableError("AGENT_UNAVAILABLE", `MCP server ${this.options.name} keeps failing; circuit open`, {
        retryAfterMs: openFor,
      });
    if (this.state !== "connected") await this.waitConnected(options.signal, options.timeoutMs);
    const client = this.client;
    if (!client) throw new RetryableError("AGENT_UNAVAILABLE", `MCP server ${this.options.name} is not connected`);
    try {
      // An abort makes the SDK send `notifications/cancelled` for this request to the server.
      const requestOptions = {
        signal: options.signal,
        timeout: options.timeoutMs,
        ...(options.onProgress ? { onprogress: options.onProgress, resetTimeoutOnProgress: false } : {}),
      };
      if (this.taskOnly.has(tool)) return await this.callAsTask(client, tool, args, requestOptions);
      const result = await client.callTool({ name: tool, arguments: args }, undefined, requestOptions);
      return result as CallToolResult;
    } catch (error) {
      const translated = this.translate(error, options);
      if (translated instanceof RetryableError && translated.code === "AGENT_UNAVAILABLE") this.recordFailure();
      throw translated;
    }
  }

  /** A task-only tool: create the MCP task, follow its status, return its result. */
  private async callAsTask(
    client: Client,
    tool: string,
    args: Record<string, unknown>,
    requestOptions: { signal: AbortSignal; timeout: number },
  ): Promise<CallToolResult> {
    for await (const message of client.experimental.tasks.callToolStream(
      { name: tool, arguments: args },
      CallToolResultSchema,
      requestOptions,
    )) {
      if (message.type === "result") return message.result as CallToolResult;
      if (message.type === "error") throw message.error;
    }
    throw new RetryableError("TOOL_ERROR", `MCP task for ${tool} ended without a result`);
  }

  async close(): Promise<void> {
    this.state = "closed";
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    const clients = [this.client, this.handshaking];
    this.client = undefined;
    this.handshaking = undefined;
    // For stdio the SDK ends stdin, then SIGTERMs, then SIGKILLs the child: no orphans.
    await Promise.all(clients.map((client) => client?.close().catch(() => {})));
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
    // Known before the handshake finishes, so close() can stop a server still initializing.
    this.transport = transport;
    this.handshaking = client;
    try {
      await client.connect(transport, { timeout: 30_000 });
      this.handshaking = undefined;
      this.client = client;
      await this.refreshLists(client);
      if (this.isClosed()) {
        await client.close();
        return;
      }
      this.state = "connected";
      this.failures = 0;
      this.breaker.success();
      const refresh = () =>
        this.refreshLists(client).then(
          () => this.options.onToolsChanged?.(this.tools),
          (error: Error) => logger.warn({ agent: name, err: error.message }, "mcp list refresh failed"),
        );
      client.setNotificationHandler(ToolListChangedNotificationSchema, refresh);
      client.setNotificationHandler(ResourceListChangedNotificationSchema, refresh);
      client.setNotificationHandler(PromptListChangedNotificationSchema, refresh);
      this.startPings(client);
      logger.info({ agent: name, transport: config.transport, tools: this.tools.length, pid: this.pid }, "mcp server connected");
    } catch (error) {
      this.handshaking = undefined;
      await client.close().catch(() => {});
      if (!this.isClosed()) this.state = "idle";
      throw new RetryableError("AGENT_UNAVAILABLE", `cannot connect to MCP server ${name}: ${this.scrub((error as Error).message)}`);
    }
  }

  /** A server that stops answering pings is hung: drop it (killing a stdio child) and reconnect. */
  private startPings(client: Client): void {
    const { ping_interval_ms: interval, ping_timeout_ms: timeout } = this.options.config;
    clearInterval(this.pingTimer);
    if (interval === 0) return;
    let inFlight = false;
    this.pingTimer = setInterval(() => {
      if (inFlight || this.client !== client) return;
      inFlight = true;
      client
        .ping({ timeout })
        .catch((error: Error) => {
          if (this.client !== client || this.isClosed()) return;
          this.options.logger.warn({ agent: this.options.name, err: error.message }, "mcp server missed a ping; restarting it");
          this.recordFailure();
          // close() fires onclose, which schedules the reconnect.
          return client.close().catch(() => {});
        })
        .finally(() => {
          inFlight = false;
        });
    }, interval);
    this.pingTimer.unref();
  }

  private onDisconnect(client: Client): void {
    if (this.client !== client || this.state === "closed") return;
    this.client = undefined;
    this.state = "idle";
    clearInterval(this.pingTimer);
    this.options.logger.warn({ agent: this.options.name }, "mcp server disconnected; reconnecting");
    this.scheduleReconnect();
  }

  private recordFailure(): void {
    this.failures++;
    if (this.breaker.failure()) this.options.logger.warn({ agent: this.options.name }, "mcp circuit open: server keeps failing");
  }

  private scheduleReconnect(): void {
    if (this.state === "closed" || this.reconnectTimer) return;
    const { restart_backoff_ms: initial, restart_backoff_max_ms: max } = this.options.config;
    const backoff = Math.min(max, initial * 2 ** Math.max(0, this.failures - 1)) * (0.75 + Math.random() * 0.5);
    // While the circuit is open nothing is tried before it half-opens.
    const delay = Math.max(backoff, this.breaker.openForMs());
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect().then(
        () => {
          this.restarts++;
          this.options.onToolsChanged?.(this.tools);
        },
        (error: Error) => {
          this.recordFailure();
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

  private async refreshLists(client: Client): Promise<void> {
    const capabilities = client.getServerCapabilities() ?? {};
    const [tools, resources, prompts] = await Promise.all([
      capabilities.tools ? this.fetchTools(client) : Promise.resolve([]),
      capabilities.resources ? this.fetchResources(client).catch(() => []) : Promise.resolve([]),
      capabilities.prompts ? this.fetchPrompts(client).catch(() => []) : Promise.resolve([]),
    ]);
    this.tools = tools;
    this.resources = resources;
    this.prompts = prompts;
  }

  private async fetchTools(client: Client): Promise<ToolDescriptor[]> {
    const tools: ToolDescriptor[] = [];
    const taskOnly = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : undefined);
      for (const tool of page.tools) {
        if (tool.execution?.taskSupport === "required") taskOnly.add(tool.name);
        tools.push({
          name: tool.name,
          description: tool.description ?? "",
          input_schema: tool.inputSchema as Record<string, unknown>,
          ...(tool.annotations ? { annotations: tool.annotations as Record<string, unknown> } : {}),
        });
      }
      cursor = page.nextCursor;
    } while (cursor);
    this.taskOnly = taskOnly;
    return tools;
  }

  private async fetchResources(client: Client): Promise<McpResourceDescriptor[]> {
    const out: McpResourceDescriptor[] = [];
    let cursor: string | undefined;
    // Bounded: some servers page through very many resources.
    for (let page = 0; page < 20; page++) {
      const result = await client.listResources(cursor ? { cursor } : undefined);
      for (const r of result.resources)
        out.push({
          uri: r.uri,
          name: r.name,
          ...(r.description ? { description: r.description } : {}),
          ...(r.mimeType ? { mime_type: r.mimeType } : {}),
        });
      cursor = result.nextCursor;
      if (!cursor) break;
    }
    return out;
  }

  private async fetchPrompts(client: Client): Promise<McpPromptDescriptor[]> {
    const out: McpPromptDescriptor[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const result = await client.listPrompts(cursor ? { cursor } : undefined);
      for (const p of result.prompts)
        out.push({
          name: p.name,
          ...(p.description ? { description: p.description } : {}),
          ...(p.arguments
            ? {
                arguments: p.arguments.map((a) => ({
                  name: a.name,
                  ...(a.description ? { description: a.description } : {}),
                  ...(a.required !== undefined ? { required: a.required } : {}),
                })),
              }
            : {}),
        });
      cursor = result.nextCursor;
      if (!cursor) break;
    }
    return out;
  }

  private scrub(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.replaceAll(secret, "[redacted]");
    return out;
  }

  private translate(error: unknown, options: CallOptions): Error {
    if (options.signal.aborted) return options.signal.reason instanceof SwitchyardError ? options.signal.reason : new CancelledError();
    if (error instanceof McpError) {
      switch (error.code) {
        case ErrorCode.RequestTimeout:
          return new TimeoutError(options.timeoutMs);
        case ErrorCode.ConnectionClosed:
          return new RetryableError("AGENT_UNAVAILABLE", `MCP server ${this.options.name} closed the connection during the call`);
        case ErrorCode.InvalidParams:
          return new NonRetryableError("VALIDATION_FAILED", this.scrub(error.message));
        case ErrorCode.MethodNotFound:
          return new NonRetryableError("TOOL_NOT_FOUND", this.scrub(error.message));
        default:
          return new RetryableError("TOOL_ERROR", this.scrub(error.message));
      }
    }
    return new RetryableError("AGENT_UNAVAILABLE", this.scrub((error as Error).message ?? String(error)));
  }
}
