import type { MockAgentConfig } from "@switchyard/config";
import { NonRetryableError, RetryableError, type ToolDescriptor } from "@switchyard/core";
import { abortableDelay } from "../abortable.js";
import type { AgentClient, AgentHealth, ToolCallContext } from "../agent-client.js";

const TOOLS: ToolDescriptor[] = [
  {
    name: "echo",
    description: "Returns its arguments unchanged (under `echo`).",
    input_schema: { type: "object", properties: { message: { type: "string" } }, additionalProperties: true },
  },
  {
    name: "sleep",
    description: "Waits `ms` milliseconds (abortable), then returns how long it slept.",
    input_schema: {
      type: "object",
      properties: { ms: { type: "integer", minimum: 0, maximum: 3_600_000 } },
      required: ["ms"],
      additionalProperties: false,
    },
  },
  {
    name: "fail",
    description:
      "Fails with `message`. `retryable` picks the error kind; with `fail_attempts: n` only the first n attempts fail, later ones succeed.",
    input_schema: {
      type: "object",
      properties: {
        message: { type: "string" },
        retryable: { type: "boolean" },
        fail_attempts: { type: "integer", minimum: 1 },
      },
      additionalProperties: false,
    },
  },
  {
    name: "split",
    description:
      "A deterministic stand-in for an LLM splitter: splits `text` on `separator` (default ',') into `{subtasks: [{id, description, tool?, capability?, arguments: {message}}]}`.",
    input_schema: {
      type: "object",
      properties: { text: { type: "string" }, separator: { type: "string" }, tool: { type: "string" }, capability: { type: "string" } },
      required: ["text"],
      additionalProperties: false,
    },
  },
];

/** Deterministic, offline tools for demos and tests. */
export class MockAgentClient implements AgentClient {
  readonly type = "mock" as const;
  private readonly tools: ToolDescriptor[];

  constructor(
    readonly name: string,
    config: MockAgentConfig,
  ) {
    this.tools = config.tools ? TOOLS.filter((tool) => config.tools?.includes(tool.name as never)) : TOOLS;
  }

  async start(): Promise<void> {}

  listTools(): ToolDescriptor[] {
    return this.tools;
  }

  async callTool(tool: string, args: Record<string, unknown>, context: ToolCallContext): Promise<unknown> {
    if (!this.tools.some((t) => t.name === tool)) throw new NonRetryableError("TOOL_NOT_FOUND", `${this.name} has no tool ${tool}`);
    switch (tool) {
      case "echo":
        return { echo: args };
      case "sleep": {
        const ms = Number(args.ms);
        if (!Number.isFinite(ms) || ms < 0) throw new NonRetryableError("VALIDATION_FAILED", "ms must be a non-negative number");
        const started = Date.now();
        await abortableDelay(ms, context.signal);
        return { slept_ms: Date.now() - started };
      }
      case "fail": {
        const failAttempts = typeof args.fail_attempts === "number" ? args.fail_attempts : Number.POSITIVE_INFINITY;
        if (context.attempt > failAttempts) return { succeeded_on_attempt: context.attempt };
        const message = typeof args.message === "string" ? args.message : "mock failure";
        if (args.retryable === true || Number.isFinite(failAttempts)) throw new RetryableError("TOOL_ERROR", message);
        throw new NonRetryableError("TOOL_ERROR", message);
      }
      case "split": {
        const text = typeof args.text === "string" ? args.text : "";
        const separator = typeof args.separator === "string" && args.separator ? args.separator : ",";
        const parts = text
          .split(separator)
          .map((part) => part.trim())
          .filter(Boolean);
        return {
          subtasks: parts.map((part, i) => ({
            id: `part-${i + 1}`,
            description: part,
            ...(typeof args.tool === "string" ? { tool: args.tool } : {}),
            ...(typeof args.capability === "string" ? { capability: args.capability } : {}),
            arguments: { message: part },
          })),
        };
      }
      default:
        throw new NonRetryableError("TOOL_NOT_FOUND", `${this.name} has no tool ${tool}`);
    }
  }

  health(): AgentHealth {
    return { status: "ok" };
  }

  async close(): Promise<void> {}
}
