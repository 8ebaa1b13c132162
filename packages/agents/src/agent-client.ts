import type { AgentType } from "@switchyard/config";
import type { McpPromptDescriptor, McpResourceDescriptor, TaskProgressEvent, ToolDescriptor } from "@switchyard/core";
import type { ChildTaskRunner, LlmAgentDeps } from "@switchyard/providers";
import type { Redis } from "ioredis";

export interface ToolCallContext {
  /** Aborted on timeout, cancellation or worker shutdown; clients must stop work when it fires. */
  signal: AbortSignal;
  /** The task's remaining time budget. */
  timeoutMs: number;
  taskId: string;
  tenant: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Reports progress, streamed tokens or log lines to the task's event stream (best effort). */
  emit?: (event: TaskProgressEvent) => void;
}

export type AgentHealth = { status: "ok" } | { status: "degraded" | "down"; reason: string };

/**
 * What every agent type implements. Adding a type is one module under `types/` and one line in
 * `registry.ts`; the worker knows nothing type-specific.
 *
 * Errors: throw `NonRetryableError` for failures a retry cannot fix (bad arguments, 4xx) and
 * `RetryableError` for transient ones; anything else is treated as retryable.
 */
export interface AgentClient {
  readonly name: string;
  readonly type: AgentType;
  /** Connects, spawns or validates. A failure here keeps the agent out of the catalog. */
  start(): Promise<void>;
  /** The tools the agent offers now (agent-local names). */
  listTools(): ToolDescriptor[];
  callTool(tool: string, args: Record<string, unknown>, context: ToolCallContext): Promise<unknown>;
  /** MCP agents: the server's resources and prompts (published with the catalog). */
  listResources?(): McpResourceDescriptor[];
  listPrompts?(): McpPromptDescriptor[];
  health(): AgentHealth;
  close(): Promise<void>;
}

/** One provider call's usage, for metrics. */
export interface ProviderUsageSample {
  agent: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface AgentClientDeps {
  /** Relative paths in agent config resolve against this folder. */
  baseDir: string;
  logger: {
    info(obj: object, msg?: string): void;
    warn(obj: object, msg?: string): void;
    debug(obj: object, msg?: string): void;
  };
  /** Called when the agent's tool list changed at run time. */
  onToolsChanged: () => void;
  /** A non-blocking connection for shared state (circuit breakers, budgets, usage). */
  redis?: Redis;
  /** The configured key prefix (`redis.prefix`). */
  prefix?: string;
  /** The process's shared circuit breakers (local views fed by "opened" announcements). */
  breakers?: LlmAgentDeps["breakers"];
  /** The connection task completions are written on: usage and token charges go there, unawaited. */
  accounting?: Redis;
  /** The other agents this worker serves (provider fallback chains). */
  agents?: (name: string) => AgentClient | undefined;
  /** Runs catalog tools as child tasks (provider `agent_run`). */
  childTasks?: ChildTaskRunner;
  /** Called after every provider call that reported usage (the worker feeds its metrics). */
  onProviderUsage?: (usage: ProviderUsageSample) => void;
}
