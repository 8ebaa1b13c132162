#!/usr/bin/env node
// A tiny, deterministic OpenAI-compatible model server: no dependencies, no key, no network.
// It lets you try Switchyard's provider agents and `agent_run` offline.
//
//   node examples/local-llm-server.mjs [--port 11435] [--host 127.0.0.1]
//
// Endpoints: POST /v1/chat/completions (JSON or SSE streaming, function tools),
// POST /v1/embeddings, GET /v1/models. Behaviour, all deterministic:
// - tools offered and the last user message names some of them (e.g. "echo", "get-sum"): it calls
//   those tools, filling string arguments with the quoted text of the message (or the whole
//   message) and number arguments with the numbers in it, in order;
// - tool results present after the last user message: it answers with a summary of them;
// - otherwise it answers "You said: <last user message>".
import { createServer } from "node:http";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const port = Number(option("port", process.env.PORT ?? 11435));
const host = option("host", "127.0.0.1");
const MODEL = "switchyard-local";

const words = (text) => (String(text ?? "").match(/\S+/g) ?? []).length;
const textOf = (content) =>
  typeof content === "string" ? content : Array.isArray(content) ? content.map((p) => (p?.type === "text" ? p.text : "")).join(" ") : "";

function decide(body) {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const lastUser = messages.findLastIndex((m) => m.role === "user");
  const prompt = lastUser >= 0 ? textOf(messages[lastUser].content) : "";
  const results = messages.slice(lastUser + 1).filter((m) => m.role === "tool");
  if (results.length > 0) {
    const names = new Map();
    for (const m of messages) for (const call of m.tool_calls ?? []) names.set(call.id, call.function?.name);
    const summary = results.map((r) => `${names.get(r.tool_call_id) ?? "tool"} → ${textOf(r.content)}`).join("; ");
    return { text: `Here is what the tools returned: ${summary}` };
  }
  const tools = Array.isArray(body.tools) ? body.tools.map((t) => t.function).filter(Boolean) : [];
  const lower = prompt.toLowerCase();
  const chosen = tools.filter((tool) => {
    const short = tool.name.split("__").pop().toLowerCase();
    return lower.includes(short) || lower.includes(short.replaceAll(/[-_]/g, " "));
  });
  if (chosen.length > 0 && body.tool_choice !== "none") {
    const quoted = /"([^"]+)"/.exec(prompt)?.[1] ?? prompt;
    const numbers = (prompt.match(/-?\d+(\.\d+)?/g) ?? []).map(Number);
    return {
      tool_calls: chosen.map((tool, i) => {
        const properties = tool.parameters?.properties ?? {};
        let n = 0;
        const argsOut = {};
        for (const [key, schema] of Object.entries(properties)) {
          if (schema?.type === "number" || schema?.type === "integer") argsOut[key] = numbers[n++] ?? 0;
          else if (schema?.type === "string") argsOut[key] = quoted;
          else if (schema?.type === "boolean") argsOut[key] = true;
        }
        return { id: `call_${i + 1}`, name: tool.name, arguments: JSON.stringify(argsOut) };
      }),
    };
  }
  return { text: `You said: ${prompt}` };
}

function send(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function chat(body, res) {
  const answer = decide(body);
  const usage = {
    prompt_tokens: (body.messages ?? []).reduce((n, m) => n + words(textOf(m.content)), 0),
    completion_tokens: words(answer.text) + (answer.tool_calls?.length ?? 0) * 5,
  };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const finish = answer.tool_calls ? "tool_calls" : "stop";
  const id = `chatcmpl-local-${Date.now()}`;
  const created = Math.floor(Date.now() / 1000);
  if (!body.stream) {
    const message = { role: "assistant", content: answer.text ?? null };
    if (answer.tool_calls)
      message.tool_calls = answer.tool_calls.map((c) => ({
        id: c.id,
        type: "function",
        function: { name: c.name, arguments: c.arguments },
      }));
    return send(res, 200, {
      id,
      object: "chat.completion",
      created,
      model: body.model ?? MODEL,
      choices: [{ index: 0, message, finish_reason: finish }],
      usage,
    });
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const chunk = (delta, finish_reason = null, extra = {}) =>
    res.write(
      `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: body.model ?? MODEL, choices: [{ index: 0, delta, finish_reason }], ...extra })}\n\n`,
    );
  chunk({ role: "assistant", content: "" });
  for (const piece of (answer.text ?? "").match(/\S+\s*/g) ?? []) {
    chunk({ content: piece });
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  for (const [index, c] of (answer.tool_calls ?? []).entries())
    chunk({ tool_calls: [{ index, id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }] });
  chunk({}, finish);
  if (body.stream_options?.include_usage)
    res.write(
      `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: body.model ?? MODEL, choices: [], usage })}\n\n`,
    );
  res.end("data: [DONE]\n\n");
}

function embed(body, res) {
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const data = inputs.map((text, index) => {
    const vector = new Array(8).fill(0);
    for (let i = 0; i < String(text).length; i++) vector[i % 8] += String(text).charCodeAt(i) / 1000;
    return { object: "embedding", index, embedding: vector };
  });
  const tokens = inputs.reduce((n, t) => n + words(t), 0);
  send(res, 200, { object: "list", model: body.model ?? "switchyard-embed", data, usage: { prompt_tokens: tokens, total_tokens: tokens } });
}

const server = createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  let body = {};
  try {
    body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
  } catch {
    return send(res, 400, { error: { message: "body is not JSON", type: "invalid_request_error" } });
  }
  const path = (req.url ?? "").split("?")[0].replace(/\/$/, "");
  if (req.method === "POST" && path.endsWith("/chat/completions")) return chat(body, res);
  if (req.method === "POST" && path.endsWith("/embeddings")) return embed(body, res);
  if (req.method === "GET" && path.endsWith("/models"))
    return send(res, 200, {
      object: "list",
      data: [
        { id: MODEL, object: "model", owned_by: "switchyard" },
        { id: "switchyard-embed", object: "model", owned_by: "switchyard" },
      ],
    });
  send(res, 404, { error: { message: `no route ${req.method} ${path}`, type: "invalid_request_error" } });
});

server.listen(port, host, () => {
  const { port: actual } = server.address();
  process.stdout.write(`local LLM server listening on http://${host}:${actual}/v1\n`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)));
