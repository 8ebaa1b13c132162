import type { TaskProgressEvent } from "@switchyard/core";

/** Provider-neutral chat messages (what task arguments and transcripts use). */
export type ContentPart =
  | { type: "text"; text: string }
  /** `url` may be an http(s) URL or a `data:<media>;base64,…` URL. */
  | { type: "image"; url: string };

export interface ToolCall {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

export type ChatMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string | ContentPart[] }
  | { role: "assistant"; content: string | null; tool_calls?: ToolCall[] }
  | { role: "tool"; tool_call_id: string; content: string; is_error?: boolean };

export interface ToolSpec {
  name: string;
  description: string;
  input_schema: Record<string, unknown>;
}

export type ResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | { type: "json_schema"; json_schema: { name: string; schema: Record<string, unknown>; strict?: boolean } };

export type ToolChoice = "auto" | "none" | "required" | { name: string };

export interface CompletionRequest {
  model: string;
  messages: ChatMessage[];
  temperature?: number | undefined;
  max_tokens?: number | undefined;
  top_p?: number | undefined;
  stop?: string[] | undefined;
  response_format?: ResponseFormat | undefined;
  tools?: ToolSpec[] | undefined;
  tool_choice?: ToolChoice | undefined;
  stream: boolean;
}

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "other";

export interface Usage {
  input_tokens: number;
  output_tokens: number;
}

/** One provider call's answer, the same shape for every provider. */
export interface Completion {
  text: string;
  tool_calls: ToolCall[];
  finish_reason: FinishReason;
  usage: Usage;
  model: string;
}

export interface Embeddings {
  embeddings: number[][];
  usage: Usage;
  model: string;
}

export interface CallOptions {
  signal: AbortSignal;
  timeoutMs: number;
  /** Streamed text as it arrives (only when the request streams). */
  onToken?: ((text: string) => void) | undefined;
}

/** One SDK behind a small surface; the resilience, fallback and usage logic is shared. */
export interface ProviderAdapter {
  readonly provider: "openai" | "anthropic";
  complete(request: CompletionRequest, options: CallOptions): Promise<Completion>;
  /** Absent when the provider has no embeddings API. */
  embed?(input: string[], model: string, options: CallOptions): Promise<Embeddings>;
}

/** What a running task hands a provider agent (structurally the worker's ToolCallContext). */
export interface ProviderCallContext {
  signal: AbortSignal;
  timeoutMs: number;
  taskId: string;
  tenant: string;
  attempt: number;
  emit?: ((event: TaskProgressEvent) => void) | undefined;
}
