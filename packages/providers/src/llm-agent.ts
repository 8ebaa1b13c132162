import { type AnthropicAgentConfig, collectSecrets, type OpenAIAgentConfig } from "@switchyard/config";
import {
  CancelledError,
  NonRetryableError,
  RetryableError,
  type SwitchyardError,
  type ToolDescriptor,
  toSwitchyardError,
} from "@switchyard/core";
import { type BreakerSettings, CircuitBreakerStore, Keys, RateBudget, RunCheckpoints, SharedBreaker, UsageStore } from "@switchyard/store";
import type { RetryPolicy } from "cockatiel";
import type { Redis } from "ioredis";
import type { z } from "zod";
import { runAgent } from "./agent-run.js";
import { AnthropicAdapter } from "./anthropic.js";
import type { ChildTaskRunner } from "./child-tasks.js";
import { scrubber } from "./errors.js";
import { OpenAIAdapter } from "./openai.js";
import { LOCAL_REJECTION, retryPolicy } from "./resilience.js";
import { TokenBatcher } from "./token-batcher.js";
import {
  AgentRunArgs,
  AnalyzeImageArgs,
  ChatCompletionArgs,
  EmbedTextArgs,
  GenerateTextArgs,
  type MessageArg,
  providerTools,
} from "./tools.js";
import type {
  ChatMessage,
  Completion,
  CompletionRequest,
  ContentPart,
  ProviderAdapter,
  ProviderCallContext,
  ResponseFormat,
} from "./types.js";

export type ProviderAgentConfig = OpenAIAgentConfig | AnthropicAgentConfig;

export interface LlmAgentDeps {
  /** Shared state (circuit breakers, budgets, usage). Without it those features are off. */
  redis?: Redis | undefined;
  /** The configured key prefix (`redis.prefix`). */
  prefix?: string | undefined;
  /**
   * The process's circuit breakers (one SharedBreaker following "opened" announcements answers
   * most acquires locally). Without it each agent asks Redis on every acquire.
   */
  breakers?: SharedBreaker | undefined;
  /**
   * Where usage and token charges are written, without waiting: the connection the task's
   * completion is written on (the BullMQ worker's), so they land before anyone can see the task
   * completed. Defaults to `redis`.
   */
  accounting?: Redis | undefined;
  /** Other provider agents this process serves, for fallback chains. */
  siblings?: ((name: string) => LlmAgent | undefined) | undefined;
  /** How agent runs call catalog tools (child tasks). */
  childTasks?: ChildTaskRunner | undefined;
  /** Called after every call that reported usage (metrics). */
  onProviderUsage?:
    | ((usage: { agent: string; model: string; inputTokens: number; outputTokens: number; costUsd: number }) => void)
    | undefined;
  logger: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void; debug(obj: object, msg?: string): void };
}

/** Why a provider in a fallback chain did not answer. */
export interface SkippedProvider {
  agent: string;
  provider: string;
  model: string;
  code: string;
  reason: string;
}

export interface AnsweredCompletion extends Completion {
  agent: string;
  provider: string;
  latency_ms: number;
  cost_usd: number;
  skipped: SkippedProvider[];
}

export type CompletionInput = Omit<CompletionRequest, "model" | "stream"> & { model?: string | undefined };

export interface CompleteOptions {
  /** Streams tokens to `onToken` (the caller batches them into task events). */
  onToken?: ((text: string) => void) | undefined;
  /** Agents to fall back to; defaults to the agent's configured `fallback`. */
  fallback?: string[] | undefined;
}

/**
 * A provider agent (OpenAI-compatible or Anthropic): its tools, and the path every provider call
 * takes — rate budget, shared circuit breaker, retries (cockatiel) and fallback chain — plus usage
 * accounting.
 */
export class LlmAgent {
  readonly adapter: ProviderAdapter;
  private readonly retry: RetryPolicy;
  private readonly breaker: SharedBreaker | undefined;
  private readonly budget: RateBudget | undefined;
  /** The same budgets on the accounting connection (token charges). */
  private readonly charges: RateBudget | undefined;
  private readonly usage: UsageStore | undefined;
  /** Agent runs save their transcript here between steps, so a retry resumes. */
  readonly checkpoints: RunCheckpoints | undefined;
  private readonly breakerSettings: BreakerSettings;
  private readonly tools: ToolDescriptor[];

  constructor(
    readonly name: string,
    readonly config: ProviderAgentConfig,
    private readonly deps: LlmAgentDeps,
  ) {
    const scrub = scrubber(collectSecrets(config));
    const label = `${name} (${config.type})`;
    this.adapter =
      config.type === "openai"
        ? new OpenAIAdapter({
            label,
            apiKey: config.api_key,
            baseUrl: config.base_url,
            organization: config.organization,
            headers: config.headers,
            params: config.params,
            scrub,
          })
        : new AnthropicAdapter({
            label,
            apiKey: config.api_key,
            baseUrl: config.base_url,
            headers: config.headers,
            params: config.params,
            scrub,
          });
    this.retry = retryPolicy({
      maxRetries: config.retry.max_retries,
      initialDelayMs: config.retry.initial_delay_ms,
      maxDelayMs: config.retry.max_delay_ms,
    });
    this.retry.onRetry((event) =>
      deps.logger.info(
        { agent: name, delay_ms: Math.round(event.delay), ...("error" in event ? { code: (event.error as SwitchyardError).code } : {}) },
        "provider call failed; retrying",
      ),
    );
    this.breakerSettings = {
      failureThreshold: config.circuit_breaker.failure_threshold,
      windowMs: config.circuit_breaker.window_ms,
      openMs: config.circuit_breaker.open_ms,
    };
    if (deps.redis) {
      const keys = new Keys(deps.prefix ?? "sy");
      this.breaker = deps.breakers ?? new SharedBreaker(new CircuitBreakerStore(deps.redis, keys));
      this.budget = new RateBudget(deps.redis, keys);
      this.charges = new RateBudget(deps.accounting ?? deps.redis, keys);
      this.usage = new UsageStore(deps.accounting ?? deps.redis, keys);
      this.checkpoints = new RunCheckpoints(deps.redis, keys);
    }
    this.tools = providerTools({ embeddings: this.adapter.embed !== undefined });
  }

  get provider(): string {
    return this.adapter.provider;
  }

  listTools(): ToolDescriptor[] {
    return this.tools;
  }

  async callTool(tool: string, args: Record<string, unknown>, context: ProviderCallContext): Promise<unknown> {
    switch (tool) {
      case "chat_completion": {
        const a = parse(ChatCompletionArgs, args, tool);
        const messages = toMessages(a.messages, a.prompt, a.system);
        return this.chatResult(context, a, {
          messages,
          temperature: a.temperature,
          max_tokens: a.max_tokens,
          top_p: a.top_p,
          stop: a.stop,
          response_format: a.response_format as ResponseFormat | undefined,
          tools: a.tools?.map((t) => ({
            name: t.name,
            description: t.description ?? "",
            input_schema: t.input_schema ?? { type: "object" },
          })),
          tool_choice: a.tool_choice,
          model: a.model,
        });
      }
      case "generate_text": {
        const a = parse(GenerateTextArgs, args, tool);
        return this.chatResult(context, a, {
          messages: toMessages(undefined, a.prompt, a.system),
          temperature: a.temperature,
          max_tokens: a.max_tokens,
          top_p: a.top_p,
          stop: a.stop,
          model: a.model,
        });
      }
      case "analyze_image": {
        const a = parse(AnalyzeImageArgs, args, tool);
        const url = a.image_url ?? (a.image_base64 ? `data:${a.media_type ?? "image/png"};base64,${a.image_base64}` : undefined);
        if (!url) throw new NonRetryableError("VALIDATION_FAILED", "arguments: image_url or image_base64 is required");
        const messages: ChatMessage[] = [
          ...(a.system ? [{ role: "system" as const, content: a.system }] : []),
          {
            role: "user",
            content: [
              { type: "image", url },
              { type: "text", text: a.prompt },
            ],
          },
        ];
        return this.chatResult(context, a, {
          messages,
          temperature: a.temperature,
          max_tokens: a.max_tokens,
          top_p: a.top_p,
          stop: a.stop,
          model: a.model,
        });
      }
      case "embed_text": {
        const a = parse(EmbedTextArgs, args, tool);
        return this.embedResult(context, a.input, a.model);
      }
      case "agent_run": {
        if (!this.deps.childTasks) throw new NonRetryableError("UNAVAILABLE", "agent runs need a worker with task access");
        return runAgent(this, parse(AgentRunArgs, args, tool), context, this.deps.childTasks);
      }
      default:
        throw new NonRetryableError("TOOL_NOT_FOUND", `${this.name} has no tool ${tool}`);
    }
  }

  /** A completion with token streaming into the task's events, shaped as a task result. */
  private async chatResult(
    context: ProviderCallContext,
    args: { stream?: boolean | undefined; fallback?: string[] | undefined },
    input: CompletionInput,
  ): Promise<Record<string, unknown>> {
    const batcher =
      args.stream && context.emit ? new TokenBatcher((text, index) => context.emit?.({ type: "token", text, index })) : undefined;
    try {
      const answer = await this.complete(input, context, {
        onToken: batcher ? (t) => batcher.push(t) : undefined,
        fallback: args.fallback,
      });
      return completionResult(answer, input.response_format);
    } finally {
      batcher?.flush();
    }
  }

  /**
   * One completion through the fallback chain: this agent's model, its fallback models, then the
   * fallback agents. A retryable failure or an open circuit moves on; anything else is final.
   */
  async complete(input: CompletionInput, context: ProviderCallContext, options: CompleteOptions = {}): Promise<AnsweredCompletion> {
    const chain: Array<{ agent: LlmAgent; model: string }> = [];
    const skipped: SkippedProvider[] = [];
    const add = (agent: LlmAgent, model: string) => {
      if (!chain.some((c) => c.agent === agent && c.model === model)) chain.push({ agent, model });
    };
    add(this, input.model ?? this.config.model);
    for (const model of this.config.fallback_models) add(this, model);
    for (const name of options.fallback ?? this.config.fallback ?? []) {
      if (name === this.name) continue;
      const sibling = this.deps.siblings?.(name);
      if (!sibling) {
        skipped.push({
          agent: name,
          provider: "unknown",
          model: "",
          code: "AGENT_UNAVAILABLE",
          reason: "not a provider agent served by this worker",
        });
        continue;
      }
      // A fallback named in task arguments must not reach an agent the tenant may not use.
      if (sibling.config.tenants && !sibling.config.tenants.includes(context.tenant)) {
        skipped.push({
          agent: name,
          provider: sibling.provider,
          model: "",
          code: "AGENT_NOT_FOUND",
          reason: "not available to this tenant",
        });
        continue;
      }
      add(sibling, sibling.config.model);
      for (const model of sibling.config.fallback_models) add(sibling, model);
    }
    let last: SwitchyardError | undefined;
    for (const [i, { agent, model }] of chain.entries()) {
      if (i > 0) context.emit?.({ type: "log", level: "warn", message: `falling back to ${agent.name} (${model}): ${last?.code}` });
      const started = performance.now();
      try {
        const completion = await agent.callModel(model, input, context, options.onToken);
        const cost = agent.costOf(model, completion);
        agent.recordUsage(context.tenant, completion, cost);
        return {
          ...completion,
          agent: agent.name,
          provider: agent.provider,
          latency_ms: Math.round(performance.now() - started),
          cost_usd: cost,
          skipped,
        };
      } catch (thrown) {
        const error = toSwitchyardError(thrown);
        if (!error.retryable || context.signal.aborted) throw error;
        last = error;
        skipped.push({ agent: agent.name, provider: agent.provider, model, code: error.code, reason: error.message });
      }
    }
    // Nothing else was tried or ruled out: the original error (its code, its Retry-After) says most.
    if (skipped.length === 1 && last) throw last;
    const retryAfter = last?.retryAfterMs;
    throw new RetryableError("AGENT_UNAVAILABLE", `${this.name}: no provider in the fallback chain answered`, {
      details: { skipped },
      ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
    });
  }

  /** One model of this agent, behind the rate budget, the shared breaker and the retry policy. */
  async callModel(
    model: string,
    input: CompletionInput,
    context: ProviderCallContext,
    onToken?: (text: string) => void,
  ): Promise<Completion> {
    const request: CompletionRequest = { ...input, model, stream: onToken !== undefined };
    return this.guarded(model, context, (timeoutMs) => this.adapter.complete(request, { signal: context.signal, timeoutMs, onToken }));
  }

  private async guarded<T extends { usage: { input_tokens: number; output_tokens: number } }>(
    model: string,
    context: ProviderCallContext,
    call: (timeoutMs: number) => Promise<T>,
  ): Promise<T> {
    const deadline = Date.now() + context.timeoutMs;
    try {
      return await this.retry.execute(async ({ attempt }) => {
        // A retried stream starts over: tell the event stream so a reader can discard the partial text.
        if (attempt > 0)
          context.emit?.({ type: "log", level: "warn", message: `${this.name}: retrying ${model} (retry ${attempt}); output restarts` });
        await this.admit(model);
        let probe = false;
        if (this.breaker) {
          const decision = await this.breaker.acquire(this.name, model, this.breakerSettings);
          if (!decision.allowed)
            throw new RetryableError("CIRCUIT_OPEN", `${this.name}: circuit open for model ${model}`, {
              retryAfterMs: decision.retryAfterMs,
              details: { [LOCAL_REJECTION]: true, agent: this.name, model },
            });
          probe = decision.probe;
        }
        try {
          const result = await call(Math.max(1, deadline - Date.now()));
          // Writes only when there is something to reset (see SharedBreaker).
          await this.breaker?.success(this.name, model, this.breakerSettings, probe);
          this.chargeTokens(result.usage.input_tokens + result.usage.output_tokens);
          return result;
        } catch (thrown) {
          const error = toSwitchyardError(thrown);
          if (this.breaker && !context.signal.aborted) {
            if (countsAgainstCircuit(error)) {
              const state = await this.breaker.failure(this.name, model, this.breakerSettings);
              if (state === "open") this.deps.logger.warn({ agent: this.name, model, code: error.code }, "circuit opened");
            } else if (probe) await this.breaker.success(this.name, model, this.breakerSettings, true);
          }
          throw error;
        }
      }, context.signal);
    } catch (thrown) {
      if (context.signal.aborted) {
        const reason = context.signal.reason;
        throw reason instanceof Error ? reason : new CancelledError();
      }
      throw thrown;
    }
  }

  /** Sent before the result is returned, not awaited (see LlmAgentDeps.accounting). */
  private chargeTokens(tokens: number): void {
    this.charges
      ?.chargeTokens(this.name, this.budgetOf(), tokens)
      .catch((error: Error) => this.deps.logger.warn({ agent: this.name, err: error.message }, "token charge not recorded"));
  }

  private budgetOf() {
    return { requestsPerMinute: this.config.requests_per_minute, tokensPerMinute: this.config.tokens_per_minute };
  }

  private async admit(model: string): Promise<void> {
    if (!this.budget || (this.config.requests_per_minute === undefined && this.config.tokens_per_minute === undefined)) return;
    const decision = await this.budget.take(this.name, this.budgetOf());
    if (!decision.allowed)
      throw new RetryableError("RATE_LIMITED", `${this.name}: ${decision.kind}-per-minute budget spent`, {
        retryAfterMs: decision.retryAfterMs,
        details: { [LOCAL_REJECTION]: true, agent: this.name, model, budget: decision.kind },
      });
  }

  private async embedResult(context: ProviderCallContext, input: string | string[], model?: string): Promise<Record<string, unknown>> {
    const embed = this.adapter.embed?.bind(this.adapter);
    if (!embed) throw new NonRetryableError("TOOL_NOT_FOUND", `${this.name} does not offer embeddings`);
    const chosen = model ?? this.config.embedding_model;
    if (!chosen) throw new NonRetryableError("VALIDATION_FAILED", `arguments.model: required (agent ${this.name} has no embedding_model)`);
    const started = performance.now();
    const texts = typeof input === "string" ? [input] : input;
    const result = await this.guarded(chosen, context, (timeoutMs) => embed(texts, chosen, { signal: context.signal, timeoutMs }));
    const cost = this.costOf(chosen, result);
    this.recordUsage(context.tenant, result, cost);
    return {
      embeddings: result.embeddings,
      dimensions: result.embeddings[0]?.length ?? 0,
      usage: usageView(result.usage, cost),
      model: result.model,
      provider: this.provider,
      agent: this.name,
      latency_ms: Math.round(performance.now() - started),
    };
  }

  costOf(requested: string, answer: { model: string; usage: { input_tokens: number; output_tokens: number } }): number {
    const price = this.config.pricing[answer.model] ?? this.config.pricing[requested];
    if (!price) return 0;
    return (answer.usage.input_tokens * price.input_per_1m + answer.usage.output_tokens * price.output_per_1m) / 1_000_000;
  }

  /**
   * Counts a call's usage: metrics at once, Redis by one command issued before this returns and
   * not awaited (on the accounting connection, so it lands before the task's completion).
   */
  recordUsage(tenant: string, answer: { model: string; usage: { input_tokens: number; output_tokens: number } }, costUsd: number): void {
    this.deps.onProviderUsage?.({
      agent: this.name,
      model: answer.model,
      inputTokens: answer.usage.input_tokens,
      outputTokens: answer.usage.output_tokens,
      costUsd,
    });
    this.usage
      ?.record({
        tenant,
        agent: this.name,
        model: answer.model,
        input_tokens: answer.usage.input_tokens,
        output_tokens: answer.usage.output_tokens,
        cost_micro_usd: Math.round(costUsd * 1_000_000),
      })
      // Accounting must not fail a task the provider already answered (and charged for).
      .catch((error: Error) => this.deps.logger.warn({ agent: this.name, err: error.message }, "usage not recorded"));
  }
}

/** Failures that say the provider is unwell. Rate limits, 4xx and our own rejections do not. */
function countsAgainstCircuit(error: SwitchyardError): boolean {
  if (!error.retryable || error.code === "RATE_LIMITED" || error.code === "CIRCUIT_OPEN" || error.code === "CANCELLED") return false;
  return !(error.details && typeof error.details === "object" && LOCAL_REJECTION in error.details);
}

export function usageView(usage: { input_tokens: number; output_tokens: number }, costUsd: number) {
  return {
    input_tokens: usage.input_tokens,
    output_tokens: usage.output_tokens,
    total_tokens: usage.input_tokens + usage.output_tokens,
    cost_usd: costUsd,
  };
}

export function completionResult(answer: AnsweredCompletion, format?: ResponseFormat): Record<string, unknown> {
  const result: Record<string, unknown> = {
    text: answer.text,
    tool_calls: answer.tool_calls,
    finish_reason: answer.finish_reason,
    usage: usageView(answer.usage, answer.cost_usd),
    model: answer.model,
    provider: answer.provider,
    agent: answer.agent,
    latency_ms: answer.latency_ms,
    skipped: answer.skipped,
  };
  if (format && format.type !== "text") {
    const json = parseJson(answer.text);
    if (json !== undefined) result.json = json;
  }
  return result;
}

function parseJson(text: string): unknown {
  const fenced = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/.exec(text);
  try {
    return JSON.parse(fenced?.[1] ?? text);
  } catch {
    return undefined;
  }
}

export function parse<S extends z.ZodType>(schema: S, args: Record<string, unknown>, tool: string): z.infer<S> {
  const parsed = schema.safeParse(args);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? `arguments.${issue.path.join(".")}` : "arguments";
  throw new NonRetryableError("VALIDATION_FAILED", `${where}: ${issue?.message ?? "invalid"} (tool ${tool})`);
}

/** Task arguments (messages or prompt, optional system) → neutral messages. */
export function toMessages(messages: MessageArg[] | undefined, prompt: string | undefined, system: string | undefined): ChatMessage[] {
  const out: ChatMessage[] = system ? [{ role: "system", content: system }] : [];
  for (const m of messages ?? []) out.push(toMessage(m));
  if (prompt) out.push({ role: "user", content: prompt });
  if (!out.some((m) => m.role !== "system")) throw new NonRetryableError("VALIDATION_FAILED", "arguments: prompt or messages is required");
  return out;
}

function toMessage(m: MessageArg): ChatMessage {
  const text = (content: MessageArg["content"]) =>
    typeof content === "string" ? content : (content ?? []).map((p) => (p.type === "text" ? p.text : "")).join("");
  switch (m.role) {
    case "system":
      return { role: "system", content: text(m.content) };
    case "assistant":
      return { role: "assistant", content: text(m.content) || null, ...(m.tool_calls?.length ? { tool_calls: m.tool_calls } : {}) };
    case "tool":
      if (!m.tool_call_id) throw new NonRetryableError("VALIDATION_FAILED", "arguments.messages: a tool message needs tool_call_id");
      return { role: "tool", tool_call_id: m.tool_call_id, content: text(m.content), ...(m.is_error ? { is_error: true } : {}) };
    case "user": {
      if (typeof m.content === "string" || !m.content) return { role: "user", content: m.content ?? "" };
      const parts: ContentPart[] = m.content.map((p) =>
        p.type === "text" ? p : p.type === "image" ? { type: "image", url: p.url } : { type: "image", url: p.image_url.url },
      );
      return { role: "user", content: parts };
    }
  }
}
