import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Local HTTP servers that speak the OpenAI Chat Completions / Embeddings and Anthropic Messages
 * wire formats (JSON and SSE), so the official SDKs run their real HTTP, parsing and streaming
 * code against them. Each test scripts the replies with a handler.
 */

export interface RecordedRequest {
  index: number;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  at: number;
}

export interface ScriptedToolCall {
  id?: string;
  name: string;
  arguments: Record<string, unknown>;
}

/** A completion in the provider's format; streamed when the request asked for a stream. */
export interface CompletionReply {
  text?: string;
  tool_calls?: ScriptedToolCall[];
  usage?: { input: number; output: number };
  model?: string;
  delayMs?: number;
}

/** Any status, body and headers (errors, Retry-After, malformed JSON). */
export interface RawReply {
  status: number;
  json?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  delayMs?: number;
}

/** Starts a stream and stops before the final event: `end` closes cleanly, `destroy` drops the socket. */
export interface TruncatedReply {
  truncate: "end" | "destroy";
  text?: string;
}

export type Reply = CompletionReply | RawReply | TruncatedReply;

export type Handler = (request: RecordedRequest) => Reply | Promise<Reply>;

export interface FakeLlmServer {
  url: string;
  requests: RecordedRequest[];
  /** Replace the reply script at run time (e.g. "recover"). */
  setHandler(handler: Handler): void;
  close(): Promise<void>;
}

type Flavor = "openai" | "anthropic";

async function start(flavor: Flavor, handler: Handler): Promise<FakeLlmServer> {
  const requests: RecordedRequest[] = [];
  let current = handler;
  const sockets = new Set<import("node:net").Socket>();
  const server: Server = createServer((req, res) => {
    void serve(req, res);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString();
    let body: any = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // keep raw
    }
    const recorded: RecordedRequest = { index: requests.length, path: req.url ?? "", headers: req.headers, body, at: Date.now() };
    requests.push(recorded);
    const reply = await current(recorded);
    if ("delayMs" in reply && reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (res.destroyed) return;
    if ("status" in reply) {
      res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
      res.end(reply.raw ?? JSON.stringify(reply.json ?? errorBody(flavor, reply.status)));
      return;
    }
    if ((req.url ?? "").endsWith("/embeddings")) {
      const inputs: string[] = Array.isArray(body.input) ? body.input : [body.input];
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          object: "list",
          model: body.model,
          data: inputs.map((input, index) => ({ object: "embedding", index, embedding: vector(input) })),
          usage: { prompt_tokens: inputs.join(" ").split(/\s+/).length, total_tokens: inputs.join(" ").split(/\s+/).length },
        }),
      );
      return;
    }
    if ("truncate" in reply) {
      res.writeHead(200, { "content-type": "text/event-stream" });
      const events =
        flavor === "openai"
          ? openaiStream(body.model, { text: reply.text ?? "partial answer" })
          : anthropicStream(body.model, { text: reply.text ?? "partial answer" });
      // Everything but the final events.
      for (const event of events.slice(0, flavor === "openai" ? 3 : 4)) res.write(event);
      if (reply.truncate === "destroy") res.socket?.destroy();
      else res.end();
      return;
    }
    const model = reply.model ?? body.model;
    if (body.stream) {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      const events = flavor === "openai" ? openaiStream(model, reply) : anthropicStream(model, reply);
      for (const event of events) {
        res.write(event);
        await new Promise((r) => setImmediate(r));
      }
      res.end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(flavor === "openai" ? openaiCompletion(model, reply) : anthropicMessage(model, reply)));
  };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setHandler: (next) => {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export function startFakeOpenAI(handler: Handler = () => ({ text: "Hello from the fake OpenAI server." })): Promise<FakeLlmServer> {
  return start("openai", handler);
}

export function startFakeAnthropic(handler: Handler = () => ({ text: "Hello from the fake Anthropic server." })): Promise<FakeLlmServer> {
  return start("anthropic", handler);
}

type Completion = CompletionReply;

function errorBody(flavor: Flavor, status: number) {
  const message = `fake error ${status}`;
  return flavor === "openai"
    ? { error: { message, type: "fake_error", code: String(status) } }
    : { type: "error", error: { type: "api_error", message } };
}

function vector(text: string): number[] {
  const out = [0, 0, 0, 0];
  for (let i = 0; i < text.length; i++) out[i % 4] = (out[i % 4] ?? 0) + text.charCodeAt(i) / 1_000;
  return out;
}

function pieces(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [];
}

function calls(reply: Completion) {
  return (reply.tool_calls ?? []).map((call, i) => ({ ...call, id: call.id ?? `call_${i + 1}` }));
}

function openaiCompletion(model: string, reply: Completion) {
  const toolCalls = calls(reply);
  const usage = reply.usage ?? { input: 11, output: 7 };
  return {
    id: "chatcmpl-fake",
    object: "chat.completion",
    created: Math.floor(Date.now() / 1_000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: reply.text ?? null,
          ...(toolCalls.length
            ? {
                tool_calls: toolCalls.map((c) => ({
                  id: c.id,
                  type: "function",
                  function: { name: c.name, arguments: JSON.stringify(c.arguments) },
                })),
              }
            : {}),
        },
        finish_reason: toolCalls.length ? "tool_calls" : "stop",
      },
    ],
    usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output },
  };
}

function sse(data: unknown, event?: string): string {
  return `${event ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
}

function openaiStream(model: string, reply: Completion): string[] {
  const chunk = (delta: object, finish: string | null = null) =>
    sse({ id: "chatcmpl-fake", object: "chat.completion.chunk", created: 1, model, choices: [{ index: 0, delta, finish_reason: finish }] });
  const out = [chunk({ role: "assistant", content: "" })];
  for (const piece of pieces(reply.text ?? "")) out.push(chunk({ content: piece }));
  calls(reply).forEach((call, index) => {
    out.push(chunk({ tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }] }));
    const args = JSON.stringify(call.arguments);
    const half = Math.ceil(args.length / 2);
    out.push(chunk({ tool_calls: [{ index, function: { arguments: args.slice(0, half) } }] }));
    out.push(chunk({ tool_calls: [{ index, function: { arguments: args.slice(half) } }] }));
  });
  out.push(chunk({}, calls(reply).length ? "tool_calls" : "stop"));
  const usage = reply.usage ?? { input: 11, output: 7 };
  out.push(
    sse({
      id: "chatcmpl-fake",
      object: "chat.completion.chunk",
      created: 1,
      model,
      choices: [],
      usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output },
    }),
  );
  out.push(sse("[DONE]"));
  return out;
}

function anthropicMessage(model: string, reply: Completion) {
  const toolCalls = calls(reply);
  const usage = reply.usage ?? { input: 13, output: 9 };
  return {
    id: "msg_fake",
    type: "message",
    role: "assistant",
    model,
    content: [
      ...(reply.text ? [{ type: "text", text: reply.text }] : []),
      ...toolCalls.map((c) => ({ type: "tool_use", id: c.id.replace("call_", "toolu_"), name: c.name, input: c.arguments })),
    ],
    stop_reason: toolCalls.length ? "tool_use" : "end_turn",
    stop_sequence: null,
    usage: { input_tokens: usage.input, output_tokens: usage.output },
  };
}

function anthropicStream(model: string, reply: Completion): string[] {
  const usage = reply.usage ?? { input: 13, output: 9 };
  const out = [
    sse(
      {
        type: "message_start",
        message: {
          id: "msg_fake",
          type: "message",
          role: "assistant",
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: usage.input, output_tokens: 1 },
        },
      },
      "message_start",
    ),
  ];
  let index = 0;
  if (reply.text !== undefined) {
    out.push(sse({ type: "content_block_start", index, content_block: { type: "text", text: "" } }, "content_block_start"));
    for (const piece of pieces(reply.text))
      out.push(sse({ type: "content_block_delta", index, delta: { type: "text_delta", text: piece } }, "content_block_delta"));
    out.push(sse({ type: "content_block_stop", index }, "content_block_stop"));
    index++;
  }
  for (const call of calls(reply)) {
    out.push(
      sse(
        {
          type: "content_block_start",
          index,
          content_block: { type: "tool_use", id: call.id.replace("call_", "toolu_"), name: call.name, input: {} },
        },
        "content_block_start",
      ),
    );
    const args = JSON.stringify(call.arguments);
    const half = Math.ceil(args.length / 2);
    out.push(
      sse(
        { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: args.slice(0, half) } },
        "content_block_delta",
      ),
    );
    out.push(
      sse(
        { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: args.slice(half) } },
        "content_block_delta",
      ),
    );
    out.push(sse({ type: "content_block_stop", index }, "content_block_stop"));
    index++;
  }
  out.push(
    sse(
      {
        type: "message_delta",
        delta: { stop_reason: calls(reply).length ? "tool_use" : "end_turn", stop_sequence: null },
        usage: { output_tokens: usage.output },
      },
      "message_delta",
    ),
  );
  out.push(sse({ type: "message_stop" }, "message_stop"));
  return out;
}
