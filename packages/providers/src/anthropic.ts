import Anthropic from "@anthropic-ai/sdk";
import { mapProviderError, type SdkErrorClasses, truncatedStream } from "./errors.js";
import type {
  CallOptions,
  ChatMessage,
  Completion,
  CompletionRequest,
  ContentPart,
  FinishReason,
  ProviderAdapter,
  ToolCall,
} from "./types.js";

export interface AnthropicAdapterOptions {
  label: string;
  apiKey: string;
  baseUrl?: string | undefined;
  headers: Record<string, string>;
  params: Record<string, unknown>;
  scrub: (text: string) => string;
}

const SDK_ERRORS: SdkErrorClasses = Anthropic;
/** The Messages API requires max_tokens; used when neither the task nor `params` sets it. */
const DEFAULT_MAX_TOKENS = 1_024;

type Block = Record<string, unknown>;
interface WireMessage {
  role: "user" | "assistant";
  content: string | Block[];
}

/** Anthropic's native Messages API through the official SDK. */
export class AnthropicAdapter implements ProviderAdapter {
  readonly provider = "anthropic" as const;
  private readonly client: Anthropic;

  constructor(private readonly options: AnthropicAdapterOptions) {
    this.client = new Anthropic({
      apiKey: options.apiKey,
      ...(options.baseUrl ? { baseURL: options.baseUrl } : {}),
      defaultHeaders: options.headers,
      maxRetries: 0,
      logLevel: "off",
    });
  }

  async complete(request: CompletionRequest, options: CallOptions): Promise<Completion> {
    const { system, messages } = toAnthropicMessages(request.messages);
    const systemText = [system, jsonInstruction(request)].filter(Boolean).join("\n\n");
    const body: Record<string, unknown> = {
      ...this.options.params,
      model: request.model,
      max_tokens: request.max_tokens ?? this.options.params.max_tokens ?? DEFAULT_MAX_TOKENS,
      messages,
      ...(systemText ? { system: systemText } : {}),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.top_p !== undefined ? { top_p: request.top_p } : {}),
      ...(request.stop ? { stop_sequences: request.stop } : {}),
      ...(request.tools?.length
        ? { tools: request.tools.map((tool) => ({ name: tool.name, description: tool.description, input_schema: tool.input_schema })) }
        : {}),
      ...(request.tool_choice && request.tools?.length ? { tool_choice: toolChoice(request.tool_choice) } : {}),
    };
    const requestOptions = { signal: options.signal, timeout: options.timeoutMs };
    try {
      if (!request.stream) {
        const message = (await this.client.messages.create(
          body as unknown as Anthropic.MessageCreateParamsNonStreaming,
          requestOptions,
        )) as unknown as {
          content: Block[];
          stop_reason: string | null;
          usage: { input_tokens: number; output_tokens: number };
          model: string;
        };
        return {
          text: message.content
            .filter((block) => block.type === "text")
            .map((block) => String(block.text ?? ""))
            .join(""),
          tool_calls: message.content
            .filter((block) => block.type === "tool_use")
            .map((block) => ({ id: String(block.id), name: String(block.name), arguments: asObject(block.input) })),
          finish_reason: finishReason(message.stop_reason),
          usage: { input_tokens: message.usage?.input_tokens ?? 0, output_tokens: message.usage?.output_tokens ?? 0 },
          model: message.model ?? request.model,
        };
      }
      const stream = await this.client.messages.create(
        { ...(body as unknown as Anthropic.MessageCreateParamsStreaming), stream: true },
        requestOptions,
      );
      let text = "";
      let stop: string | null = null;
      let stopped = false;
      let model = request.model;
      const usage = { input_tokens: 0, output_tokens: 0 };
      const blocks = new Map<number, { kind: "text" | "tool_use" | "other"; id: string; name: string; json: string }>();
      for await (const raw of stream) {
        const event = raw as unknown as Block & { type: string };
        switch (event.type) {
          case "message_start": {
            const message = event.message as { model?: string; usage?: { input_tokens?: number; output_tokens?: number } };
            if (message.model) model = message.model;
            usage.input_tokens = message.usage?.input_tokens ?? 0;
            usage.output_tokens = message.usage?.output_tokens ?? 0;
            break;
          }
          case "content_block_start": {
            const block = event.content_block as Block;
            const kind = block.type === "text" ? "text" : block.type === "tool_use" ? "tool_use" : "other";
            blocks.set(Number(event.index), { kind, id: String(block.id ?? ""), name: String(block.name ?? ""), json: "" });
            if (kind === "text" && typeof block.text === "string" && block.text) {
              text += block.text;
              options.onToken?.(block.text);
            }
            break;
          }
          case "content_block_delta": {
            const delta = event.delta as Block;
            if (delta.type === "text_delta" && typeof delta.text === "string") {
              text += delta.text;
              options.onToken?.(delta.text);
            } else if (delta.type === "input_json_delta" && typeof delta.partial_json === "string") {
              const block = blocks.get(Number(event.index));
              if (block) block.json += delta.partial_json;
            }
            break;
          }
          case "message_delta": {
            const delta = event.delta as { stop_reason?: string | null };
            if (delta.stop_reason) stop = delta.stop_reason;
            const u = event.usage as { output_tokens?: number; input_tokens?: number | null } | undefined;
            if (u?.output_tokens !== undefined) usage.output_tokens = u.output_tokens;
            if (typeof u?.input_tokens === "number" && u.input_tokens > 0) usage.input_tokens = u.input_tokens;
            break;
          }
          case "message_stop":
            stopped = true;
            break;
        }
      }
      if (!stopped) throw truncatedStream(this.options.label);
      const toolCalls: ToolCall[] = [...blocks.entries()]
        .sort(([a], [b]) => a - b)
        .filter(([, block]) => block.kind === "tool_use")
        .map(([, block]) => ({ id: block.id, name: block.name, arguments: parseArgs(block.json) }));
      return { text, tool_calls: toolCalls, finish_reason: finishReason(stop), usage, model };
    } catch (error) {
      throw mapProviderError(error, SDK_ERRORS, {
        label: this.options.label,
        signal: options.signal,
        timeoutMs: options.timeoutMs,
        scrub: this.options.scrub,
      });
    }
  }
}

function parseArgs(json: string): Record<string, unknown> {
  if (!json.trim()) return {};
  try {
    return asObject(JSON.parse(json));
  } catch {
    return { _raw: json };
  }
}

function asObject(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
}

function finishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case "end_turn":
    case "stop_sequence":
      return "stop";
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    default:
      return "other";
  }
}

function toolChoice(choice: NonNullable<CompletionRequest["tool_choice"]>): Block {
  if (typeof choice !== "string") return { type: "tool", name: choice.name };
  return { type: choice === "required" ? "any" : choice };
}

/** The Messages API has no response_format: ask for JSON in the system prompt instead. */
function jsonInstruction(request: CompletionRequest): string {
  const format = request.response_format;
  if (!format || format.type === "text") return "";
  if (format.type === "json_object") return "Respond with a single JSON object and nothing else.";
  return `Respond with a single JSON value that conforms to this JSON Schema, and nothing else:\n${JSON.stringify(format.json_schema.schema)}`;
}

/**
 * Neutral messages → Messages API: system messages move to `system`; assistant tool calls become
 * `tool_use` blocks; consecutive tool results become one user turn of `tool_result` blocks.
 */
export function toAnthropicMessages(messages: ChatMessage[]): { system: string; messages: WireMessage[] } {
  const system: string[] = [];
  const out: WireMessage[] = [];
  const push = (role: "user" | "assistant", blocks: Block[]) => {
    const last = out.at(-1);
    if (last && last.role === role && Array.isArray(last.content)) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (const message of messages) {
    switch (message.role) {
      case "system":
        system.push(message.content);
        break;
      case "user":
        push(
          "user",
          typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content.map(toAnthropicPart),
        );
        break;
      case "assistant": {
        const blocks: Block[] = [];
        if (message.content) blocks.push({ type: "text", text: message.content });
        for (const call of message.tool_calls ?? []) blocks.push({ type: "tool_use", id: call.id, name: call.name, input: call.arguments });
        if (blocks.length > 0) push("assistant", blocks);
        break;
      }
      case "tool":
        push("user", [
          {
            type: "tool_result",
            tool_use_id: message.tool_call_id,
            content: message.content,
            ...(message.is_error ? { is_error: true } : {}),
          },
        ]);
        break;
    }
  }
  return { system: system.join("\n\n"), messages: out };
}

function toAnthropicPart(part: ContentPart): Block {
  if (part.type === "text") return { type: "text", text: part.text };
  const data = /^data:([^;,]+);base64,(.*)$/s.exec(part.url);
  if (data) return { type: "image", source: { type: "base64", media_type: data[1], data: data[2] } };
  return { type: "image", source: { type: "url", url: part.url } };
}
