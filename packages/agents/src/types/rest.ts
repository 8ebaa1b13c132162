import type { RestAgentConfig } from "@switchyard/config";
import { NonRetryableError, RetryableError, TimeoutError, type ToolDescriptor } from "@switchyard/core";
import { reasonOf } from "../abortable.js";
import type { AgentClient, AgentHealth, ToolCallContext } from "../agent-client.js";

/** A plain HTTP API as an agent: each configured tool is one request. */
export class RestAgentClient implements AgentClient {
  readonly type = "rest" as const;
  private readonly tools: ToolDescriptor[];

  constructor(
    readonly name: string,
    private readonly config: RestAgentConfig,
  ) {
    this.tools = Object.entries(config.tools).map(([toolName, tool]) => ({
      name: toolName,
      description: tool.description,
      input_schema: tool.input_schema,
    }));
  }

  async start(): Promise<void> {}

  listTools(): ToolDescriptor[] {
    return this.tools;
  }

  async callTool(tool: string, args: Record<string, unknown>, context: ToolCallContext): Promise<unknown> {
    const spec = this.config.tools[tool];
    if (!spec) throw new NonRetryableError("TOOL_NOT_FOUND", `${this.name} has no tool ${tool}`);
    const remaining = { ...args };
    const path = spec.path.replace(/\{([A-Za-z0-9_]+)\}/g, (_, key: string) => {
      const value = remaining[key];
      if (value === undefined) throw new NonRetryableError("VALIDATION_FAILED", `missing path argument '${key}'`);
      delete remaining[key];
      return encodeURIComponent(String(value));
    });
    const url = new URL(this.config.base_url.replace(/\/$/, "") + path);
    const hasBody = spec.method !== "GET" && spec.method !== "DELETE";
    if (!hasBody) {
      for (const [key, value] of Object.entries(remaining)) {
        url.searchParams.set(key, typeof value === "string" ? value : JSON.stringify(value));
      }
    }
    const headers: Record<string, string> = { accept: "application/json", ...this.config.headers, ...spec.headers };
    if (this.config.auth_token) headers.authorization = `Bearer ${this.config.auth_token}`;
    if (hasBody) headers["content-type"] = "application/json";
    const timeout = AbortSignal.timeout(context.timeoutMs);
    let response: Response;
    try {
      response = await fetch(url, {
        method: spec.method,
        headers,
        ...(hasBody ? { body: JSON.stringify(remaining) } : {}),
        signal: AbortSignal.any([context.signal, timeout]),
      });
    } catch (error) {
      if (context.signal.aborted) throw reasonOf(context.signal);
      if (timeout.aborted) throw new TimeoutError(context.timeoutMs);
      throw new RetryableError("AGENT_UNAVAILABLE", `${this.name}: request failed (${(error as Error).message})`);
    }
    const text = await response.text();
    const body = parseBody(text, response.headers.get("content-type"));
    if (response.ok) return { status: response.status, body };
    const message = `${this.name}.${tool}: HTTP ${response.status}`;
    const details = { status: response.status, body: truncate(body) };
    if (response.status === 429 || response.status === 408 || response.status >= 500) {
      const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
      throw new RetryableError(response.status === 429 ? "RATE_LIMITED" : "TOOL_ERROR", message, {
        details,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      });
    }
    throw new NonRetryableError("TOOL_ERROR", message, { details });
  }

  health(): AgentHealth {
    return { status: "ok" };
  }

  async close(): Promise<void> {}
}

function parseBody(text: string, contentType: string | null): unknown {
  if (contentType?.includes("json")) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function truncate(body: unknown): unknown {
  return typeof body === "string" && body.length > 2_000 ? `${body.slice(0, 2_000)}…` : body;
}

export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
