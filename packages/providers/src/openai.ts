import OpenAI from "openai";
import { mapProviderError, type SdkErrorClasses, truncatedStream } from "./errors.js";
import type {
  CallOptions,
  ChatMessage,
  Completion,
  CompletionRequest,
  ContentPart,
  Embeddings,
  FinishReason,
  ProviderAdapter,
  ToolCall,
} from "./types.js";

export interface OpenAIAdapterOptions {
  label: string;
  apiKey: string;
  baseUrl?: string | undefined;
  organization?: string | undefined;
  headers: Record<string, string>;
  /** Extra request parameters from the agent config (`params`). */
  params: Record<string, unknown>;
  scrub: (text: string) => string;
}

const SDK_ERRORS: SdkErrorClasses = OpenAI;

/** Any OpenAI-compatible Chat Completions endpoint through the official SDK. */
export class OpenAIAdapter implements ProviderAdapter {
  readonly provider = "openai" as const;
  private readonly client: OpenAI;

  constructor(private readonly options: OpenAIAdapterOptions) {
    this.client = new OpenAI({
      apiKey: options.apiKey,
      ...(options.baseUrl ? { baseURL: options.baseUrl } : {}),
      ...(options.organization ? { organization: options.organization } : {}),
      defaultHeaders: options.headers,
      // Retries are Switchyard's (visible, Retry-After aware, shared breaker); the SDK makes one try.
      maxRetries: 0,
      logLevel: "off",
    });
  }

  async complete(request: CompletionRequest, options: CallOptions): Promise<Completion> {
    const body = {
      ...this.options.params,
      model: request.model,
      messages: toOpenAIMessages(request.messages),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.max_tokens !== undefined ? { max_tokens: request.max_tokens } : {}),
      ...(request.top_p !== undefined ? { top_p: request.top_p } : {}),
      ...(request.stop ? { stop: request.stop } : {}),
      ...(request.response_format ? { response_format: request.response_format } : {}),
      ...(request.tools?.length
        ? {
            tools: request.tools.map((tool) => ({
              type: "function" as const,
              function: { name: tool.name, description: tool.description, parameters: tool.input_schema },
            })),
          }
        : {}),
      ...(request.tool_choice && request.tools?.length
        ? {
            tool_choice:
              typeof request.tool_choice === "string"
                ? request.tool_choice
                : { type: "function" as const, function: { name: request.tool_choice.name } },
          }
        : {}),
    } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;
    const requestOptions = { signal: options.signal, timeout: options.timeoutMs };
    try {
      if (!request.stream) {
        const response = await this.client.chat.completions.create(body, requestOptions);
        const choice = response.choices?.[0];
        if (!choice) throw new Error("response has no choices");
        return {
          text: choice.message.content ?? "",
          tool_calls: (choice.message.tool_calls ?? []).flatMap((call) =>
            call.type === "function" ? [toolCall(call.id, call.function.name, call.function.arguments)] : [],
          ),
          finish_reason: finishReason(choice.finish_reason),
          usage: { input_tokens: response.usage?.prompt_tokens ?? 0, output_tokens: response.usage?.completion_tokens ?? 0 },
          model: response.model ?? request.model,
        };
      }
      const stream = await this.client.chat.completions.create(
        { ...body, stream: true, stream_options: { include_usage: true } },
        requestOptions,
      );
      let text = "";
      let finish: string | null | undefined;
      let model = request.model;
      let usage = { input_tokens: 0, output_tokens: 0 };
      const calls = new Map<number, { id: string; name: string; args: string }>();
      for await (const chunk of stream) {
        if (chunk.model) model = chunk.model;
        if (chunk.usage) usage = { input_tokens: chunk.usage.prompt_tokens ?? 0, output_tokens: chunk.usage.completion_tokens ?? 0 };
        const choice = chunk.choices?.[0];
        if (!choice) continue;
        const delta = choice.delta;
        if (delta?.content) {
          text += delta.content;
          options.onToken?.(delta.content);
        }
        for (const part of delta?.tool_calls ?? []) {
          const call = calls.get(part.index) ?? { id: "", name: "", args: "" };
          if (part.id) call.id = part.id;
          if (part.function?.name) call.name += part.function.name;
          if (part.function?.arguments) call.args += part.function.arguments;
          calls.set(part.index, call);
        }
        if (choice.finish_reason) finish = choice.finish_reason;
      }
      if (!finish) throw truncatedStream(this.options.label);
      return {
        text,
        tool_calls: [...calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => toolCall(call.id, call.name, call.args)),
        finish_reason: finishReason(finish),
        usage,
        model,
      };
    } catch (error) {
      throw mapProviderError(error, SDK_ERRORS, {
        label: this.options.label,
        signal: options.signal,
        timeoutMs: options.timeoutMs,
        scrub: this.options.scrub,
      });
    }
  }

  async embed(input: string[], model: string, options: CallOptions): Promise<Embeddings> {
    try {
      const response = await this.client.embeddings.create(
        { model, input, encoding_format: "float" },
        { signal: options.signal, timeout: options.timeoutMs },
      );
      const data = [...response.data].sort((a, b) => a.index - b.index);
      return {
        embeddings: data.map((item) => item.embedding),
        usage: { input_tokens: response.usage?.prompt_tokens ?? 0, output_tokens: 0 },
        model: response.model ?? model,
      };
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

function toolCall(id: string, name: string, args: string): ToolCall {
  let parsed: unknown = {};
  try {
    parsed = args.trim() ? JSON.parse(args) : {};
  } catch {
    // The model produced arguments that are not JSON; the tool sees them raw and can complain.
    parsed = { _raw: args };
  }
  return {
    id: id || `call_${Math.random().toString(36).slice(2, 10)}`,
    name,
    arguments: parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed },
  };
}

function finishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case "stop":
    case "length":
    case "tool_calls":
    case "content_filter":
      return reason;
    case "function_call":
      return "tool_calls";
    default:
      return "other";
  }
}

export function toOpenAIMessages(messages: ChatMessage[]): OpenAI.Chat.ChatCompletionMessageParam[] {
  return messages.map((message): OpenAI.Chat.ChatCompletionMessageParam => {
    switch (message.role) {
      case "system":
        return { role: "system", content: message.content };
      case "user":
        return {
          role: "user",
          content: typeof message.content === "string" ? message.content : message.content.map(toOpenAIPart),
        };
      case "assistant":
        return {
          role: "assistant",
          content: message.content,
          ...(message.tool_calls?.length
            ? {
                tool_calls: message.tool_calls.map((call) => ({
                  id: call.id,
                  type: "function" as const,
                  function: { name: call.name, arguments: JSON.stringify(call.arguments) },
                })),
              }
            : {}),
        };
      default:
        return { role: "tool", tool_call_id: message.tool_call_id, content: message.content };
    }
  });
}

function toOpenAIPart(part: ContentPart): OpenAI.Chat.ChatCompletionContentPart {
  return part.type === "text" ? { type: "text", text: part.text } : { type: "image_url", image_url: { url: part.url } };
}
