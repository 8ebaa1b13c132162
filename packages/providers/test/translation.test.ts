import { NonRetryableError, RetryableError } from "@switchyard/core";
import type { ChatMessage } from "@switchyard/providers";
import {
  matchesToolPattern,
  providerTools,
  retryPolicy,
  TokenBatcher,
  ToolNameMap,
  toAnthropicMessages,
  toOpenAIMessages,
} from "@switchyard/providers";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";

const conversation: ChatMessage[] = [
  { role: "system", content: "Be brief." },
  {
    role: "user",
    content: [
      { type: "text", text: "What is this?" },
      { type: "image", url: "data:image/png;base64,AAAA" },
    ],
  },
  {
    role: "assistant",
    content: "Checking.",
    tool_calls: [
      { id: "c1", name: "fs__read", arguments: { path: "a" } },
      { id: "c2", name: "fs__stat", arguments: {} },
    ],
  },
  { role: "tool", tool_call_id: "c1", content: "file a" },
  { role: "tool", tool_call_id: "c2", content: "boom", is_error: true },
  { role: "assistant", content: "A cat." },
];

describe("message translation", () => {
  it("maps neutral messages to OpenAI chat messages", () => {
    const out = toOpenAIMessages(conversation);
    expect(out[0]).toEqual({ role: "system", content: "Be brief." });
    expect(out[1]).toEqual({
      role: "user",
      content: [
        { type: "text", text: "What is this?" },
        { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
      ],
    });
    expect(out[2]).toMatchObject({
      role: "assistant",
      content: "Checking.",
      tool_calls: [{ id: "c1", type: "function", function: { name: "fs__read", arguments: '{"path":"a"}' } }, { id: "c2" }],
    });
    expect(out[3]).toEqual({ role: "tool", tool_call_id: "c1", content: "file a" });
  });

  it("maps neutral messages to Anthropic messages: system apart, tool results merged into one user turn", () => {
    const { system, messages } = toAnthropicMessages(conversation);
    expect(system).toBe("Be brief.");
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(messages[0]?.content).toEqual([
      { type: "text", text: "What is this?" },
      { type: "image", source: { type: "base64", media_type: "image/png", data: "AAAA" } },
    ]);
    expect(messages[1]?.content).toEqual([
      { type: "text", text: "Checking." },
      { type: "tool_use", id: "c1", name: "fs__read", input: { path: "a" } },
      { type: "tool_use", id: "c2", name: "fs__stat", input: {} },
    ]);
    expect(messages[2]?.content).toEqual([
      { type: "tool_result", tool_use_id: "c1", content: "file a" },
      { type: "tool_result", tool_use_id: "c2", content: "boom", is_error: true },
    ]);
  });
});

describe("tool names", () => {
  it("maps catalog names to provider-safe names and back, without collisions", () => {
    const names = new ToolNameMap();
    const a = names.add("everything.get-sum");
    const b = names.add("my-agent.do.thing");
    const c = names.add("my-agent.do_thing");
    expect(a).toBe("everything__get-sum");
    expect(b).toBe("my-agent__do_thing");
    expect(c).toBe("my-agent__do_thing_2");
    for (const [provider, catalog] of [
      [a, "everything.get-sum"],
      [b, "my-agent.do.thing"],
      [c, "my-agent.do_thing"],
    ]) {
      expect(provider).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
      expect(names.catalogName(provider as string)).toBe(catalog);
    }
    expect(names.catalogName("unknown")).toBeUndefined();
  });

  it("matches tool patterns", () => {
    expect(matchesToolPattern("fs.*", "fs.read_file")).toBe(true);
    expect(matchesToolPattern("fs.*", "fsx.read")).toBe(false);
    expect(matchesToolPattern("*", "a.b")).toBe(true);
    expect(matchesToolPattern("everything.echo", "everything.echo")).toBe(true);
    expect(matchesToolPattern("everything.echo", "everything.echoes")).toBe(false);
  });
});

describe("published input schemas", () => {
  const ajv = new Ajv({ strict: false });
  const schema = (name: string) => {
    const tool = providerTools({ embeddings: true }).find((t) => t.name === name);
    if (!tool) throw new Error(`no ${name}`);
    return ajv.compile(tool.input_schema);
  };

  it("accept prompt or messages and reject neither", () => {
    const chat = schema("chat_completion");
    expect(chat({ prompt: "hi" })).toBe(true);
    expect(chat({ messages: [{ role: "user", content: "hi" }], stream: true, response_format: { type: "json_object" } })).toBe(true);
    expect(chat({})).toBe(false);
    expect(chat({ prompt: "hi", bogus: 1 })).toBe(false);
    const run = schema("agent_run");
    expect(run({ prompt: "x", tools: ["fs.*", "everything.echo"], max_steps: 3 })).toBe(true);
    expect(run({ prompt: "x", max_steps: 0 })).toBe(false);
    expect(schema("analyze_image")({ prompt: "x" })).toBe(false);
    expect(schema("embed_text")({ input: ["a", "b"] })).toBe(true);
  });
});

describe("token batching", () => {
  it("coalesces tokens into few events and loses none", async () => {
    const events: string[] = [];
    const batcher = new TokenBatcher((text) => events.push(text), 20);
    for (const token of ["a", "b", "c", "d"]) batcher.push(token);
    await new Promise((resolve) => setTimeout(resolve, 40));
    batcher.push("e");
    batcher.flush();
    expect(events.join("")).toBe("abcde");
    expect(events.length).toBeLessThanOrEqual(2);
  });
});

describe("retry policy", () => {
  it("waits at least Retry-After, and passes non-retryable errors straight through", async () => {
    const policy = retryPolicy({ maxRetries: 2, initialDelayMs: 1, maxDelayMs: 5 });
    const times: number[] = [];
    const result = await policy.execute(() => {
      times.push(Date.now());
      if (times.length === 1) throw new RetryableError("RATE_LIMITED", "slow down", { retryAfterMs: 200 });
      return "ok";
    });
    expect(result).toBe("ok");
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(190);
    let calls = 0;
    await expect(
      policy.execute(() => {
        calls++;
        throw new NonRetryableError("PROVIDER_ERROR", "HTTP 401");
      }),
    ).rejects.toThrow("HTTP 401");
    expect(calls).toBe(1);
  });
});
