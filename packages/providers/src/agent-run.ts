import { NonRetryableError, SwitchyardError } from "@switchyard/core";
import { z } from "zod";
import type { ChildTaskRunner } from "./child-tasks.js";
import { type LlmAgent, type SkippedProvider, toMessages, usageView } from "./llm-agent.js";
import { TokenBatcher } from "./token-batcher.js";
import { matchesToolPattern, ToolNameMap } from "./tool-names.js";
import type { AgentRunArgs } from "./tools.js";
import type { ChatMessage, ProviderCallContext, ToolSpec } from "./types.js";

const MAX_TOOL_RESULT_CHARS = 16_000;
const CHECKPOINT_TTL_MS = 86_400_000;

/** What an agent run saves after each finished step (read back from Redis, so validated). */
const Checkpoint = z.object({
  v: z.literal(1),
  step: z.number().int().min(1),
  messages: z.array(z.record(z.string(), z.unknown())),
  calls: z.array(z.record(z.string(), z.unknown())),
  usage: z.object({ input_tokens: z.number(), output_tokens: z.number() }),
  cost: z.number(),
  skipped: z.array(z.record(z.string(), z.unknown())),
});

export interface AgentRunToolCall {
  step: number;
  id: string;
  /** Catalog name, `agent.tool`. */
  name: string;
  /** The name the model saw. */
  provider_name: string;
  arguments: Record<string, unknown>;
  task_id?: string;
  status: "completed" | "failed";
  result?: unknown;
  error?: { code: string; message: string };
}

/**
 * The tool-calling loop of an `agent_run` task, on the worker: ask the model (through the
 * fallback chain), run every tool it asks for as a child task through the ordinary task path,
 * feed the results back, until it answers without tool calls or `max_steps` turns are used.
 * Every transcript entry is also emitted as an `agent_step` progress event.
 */
export async function runAgent(agent: LlmAgent, args: AgentRunArgs, context: ProviderCallContext, runner: ChildTaskRunner) {
  const started = performance.now();
  const names = new ToolNameMap();
  const specs: ToolSpec[] = [];
  const catalog = await runner.tools(context.tenant);
  for (const pattern of args.tools) {
    const found = catalog.filter((t) => t.agent !== agent.name && matchesToolPattern(pattern, `${t.agent}.${t.tool.name}`));
    if (found.length === 0 && !pattern.includes("*"))
      throw new NonRetryableError("TOOL_NOT_FOUND", `agent_run: no tool '${pattern}' in the catalog`);
    for (const { agent: owner, tool } of found) {
      const qualified = `${owner}.${tool.name}`;
      if (specs.some((s) => names.catalogName(s.name) === qualified)) continue;
      const { $schema: _, ...schema } = tool.input_schema;
      specs.push({ name: names.add(qualified), description: tool.description || qualified, input_schema: { type: "object", ...schema } });
    }
  }

  let messages: ChatMessage[] = toMessages(args.messages, args.prompt, args.system);
  let calls: AgentRunToolCall[] = [];
  let skipped: SkippedProvider[] = [];
  let usage = { input_tokens: 0, output_tokens: 0 };
  let cost = 0;
  let last: Awaited<ReturnType<LlmAgent["complete"]>> | undefined;
  let finished = false;
  let step = 0;
  let resumedFrom: number | undefined;
  const emitStep = (entry: Record<string, unknown>) => context.emit?.({ type: "agent_step", step, entry });

  // A retry (after a crash or a transient failure) resumes after the last finished step: tools
  // that already ran are not called again.
  const saved = Checkpoint.safeParse(await agent.checkpoints?.load(context.taskId).catch(() => undefined));
  if (saved.success) {
    ({ step, usage, cost } = saved.data);
    messages = saved.data.messages as unknown as ChatMessage[];
    calls = saved.data.calls as unknown as AgentRunToolCall[];
    skipped = saved.data.skipped as unknown as SkippedProvider[];
    resumedFrom = step;
    emitStep({ type: "resumed", after_step: step });
  }
  const checkpoint = () =>
    agent.checkpoints?.save(context.taskId, { v: 1, step, messages, calls, usage, cost, skipped }, CHECKPOINT_TTL_MS).catch(() => {});
  const batcher =
    args.stream && context.emit ? new TokenBatcher((text, index) => context.emit?.({ type: "token", text, index })) : undefined;

  try {
    while (step < args.max_steps) {
      step++;
      const answer = await agent.complete(
        {
          messages,
          ...(specs.length ? { tools: specs } : {}),
          model: args.model,
          temperature: args.temperature,
          max_tokens: args.max_tokens,
          top_p: args.top_p,
          stop: args.stop,
        },
        context,
        { onToken: batcher ? (t) => batcher.push(t) : undefined, fallback: args.fallback },
      );
      batcher?.flush();
      last = answer;
      usage.input_tokens += answer.usage.input_tokens;
      usage.output_tokens += answer.usage.output_tokens;
      cost += answer.cost_usd;
      skipped.push(...answer.skipped);
      messages.push({
        role: "assistant",
        content: answer.text || null,
        ...(answer.tool_calls.length ? { tool_calls: answer.tool_calls } : {}),
      });
      emitStep({
        type: "assistant",
        text: answer.text,
        tool_calls: answer.tool_calls.map((c) => ({ id: c.id, name: names.catalogName(c.name) ?? c.name, arguments: c.arguments })),
        agent: answer.agent,
        model: answer.model,
        usage: answer.usage,
      });
      if (answer.tool_calls.length === 0) {
        finished = true;
        break;
      }
      // Calls of one turn are independent: run them together, feed results back in order.
      const outcomes = await Promise.all(
        answer.tool_calls.map(async (call): Promise<AgentRunToolCall> => {
          const qualified = names.catalogName(call.name);
          const base = { step, id: call.id, name: qualified ?? call.name, provider_name: call.name, arguments: call.arguments };
          if (!qualified)
            return { ...base, status: "failed", error: { code: "TOOL_NOT_FOUND", message: `no tool '${call.name}' was offered` } };
          const dot = qualified.indexOf(".");
          emitStep({ type: "tool_call", id: call.id, name: qualified, arguments: call.arguments });
          const outcome = await runner.run({
            tenant: context.tenant,
            parentTaskId: context.taskId,
            agent: qualified.slice(0, dot),
            tool: qualified.slice(dot + 1),
            arguments: call.arguments,
            timeoutMs: args.tool_timeout_ms,
            signal: context.signal,
          });
          return outcome.status === "completed"
            ? { ...base, task_id: outcome.task_id, status: "completed", result: outcome.result }
            : { ...base, task_id: outcome.task_id, status: "failed", error: outcome.error };
        }),
      );
      for (const outcome of outcomes) {
        calls.push(outcome);
        const content = outcome.status === "completed" ? render(outcome.result) : `error ${outcome.error?.code}: ${outcome.error?.message}`;
        messages.push({ role: "tool", tool_call_id: outcome.id, content, ...(outcome.status === "failed" ? { is_error: true } : {}) });
        emitStep({
          type: "tool_result",
          id: outcome.id,
          name: outcome.name,
          task_id: outcome.task_id,
          status: outcome.status,
          ...(outcome.status === "completed" ? { result: outcome.result } : { error: outcome.error }),
        });
      }
      await checkpoint();
    }
  } catch (error) {
    // A final failure will not be retried: nothing to resume.
    if (!(error instanceof SwitchyardError && error.retryable)) await agent.checkpoints?.clear(context.taskId).catch(() => {});
    throw error;
  } finally {
    batcher?.flush();
  }
  await agent.checkpoints?.clear(context.taskId).catch(() => {});

  return {
    text: last?.text ?? "",
    finish_reason: finished ? (last?.finish_reason ?? "stop") : "max_steps",
    steps: step,
    ...(resumedFrom !== undefined ? { resumed_after_step: resumedFrom } : {}),
    tool_calls: calls,
    transcript: messages,
    tools_offered: specs.map((s) => names.catalogName(s.name)),
    usage: usageView(usage, cost),
    model: last?.model,
    provider: last?.provider,
    agent: last?.agent,
    latency_ms: Math.round(performance.now() - started),
    skipped,
  };
}

/** A tool result as the model reads it: MCP text content as text, anything else as JSON. */
function render(result: unknown): string {
  let text: string;
  const content = (result as { content?: unknown } | null)?.content;
  if (Array.isArray(content)) {
    text = content
      .map((part: { type?: string; text?: string }) =>
        part?.type === "text" && typeof part.text === "string" ? part.text : JSON.stringify(part),
      )
      .join("\n");
  } else text = typeof result === "string" ? result : JSON.stringify(result);
  return text.length > MAX_TOOL_RESULT_CHARS ? `${text.slice(0, MAX_TOOL_RESULT_CHARS)}…[truncated]` : text;
}
