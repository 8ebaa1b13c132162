import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FakeLlmServer, startFakeAnthropic, startFakeOpenAI } from "./helpers/llm-servers.js";
import { watchProgress } from "./helpers/progress.js";
import { readSse } from "./helpers/sse.js";
import { ADMIN_KEY, type Stack, startStack, waitForTask } from "./helpers/stack.js";

const OPENAI_KEY = "sk-test-openai-SECRET-7f3a9c";
const ANTHROPIC_KEY = "sk-ant-test-SECRET-41d2e8";

async function run(stack: Stack, agent: string, tool: string, args: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const submitted = await stack.admin.post("/api/v1/tasks", { agent_name: agent, tool_name: tool, arguments: args, ...extra });
  expect([201, 202], JSON.stringify(submitted.body)).toContain(submitted.status);
  return waitForTask(stack.admin, submitted.body.task_id);
}

describe.each([
  { type: "openai" as const, start: startFakeOpenAI, key: OPENAI_KEY, expectedUsage: { input_tokens: 11, output_tokens: 7 } },
  { type: "anthropic" as const, start: startFakeAnthropic, key: ANTHROPIC_KEY, expectedUsage: { input_tokens: 13, output_tokens: 9 } },
])("$type provider agent", ({ type, start, key, expectedUsage }) => {
  let fake: FakeLlmServer;
  let stack: Stack;

  beforeAll(async () => {
    fake = await start();
    stack = await startStack({
      config: {
        limits: { backoff_ms: 10 },
        agents: {
          llm: {
            type,
            base_url: type === "openai" ? `${fake.url}/v1` : fake.url,
            api_key: key,
            model: `${type}-test-model`,
            embedding_model: "embed-test",
            retry: { max_retries: 2, initial_delay_ms: 10 },
            // These tests fail the provider on purpose; the breaker has its own test.
            circuit_breaker: { failure_threshold: 1_000 },
            pricing: { [`${type}-test-model`]: { input_per_1m: 1_000, output_per_1m: 2_000 } },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await fake?.close();
  });
  afterEach(() => {
    fake.setHandler(() => ({ text: "Hello from the fake server." }));
  });

  it("publishes its tools with JSON input schemas", async () => {
    const { body } = await stack.admin.get("/api/v1/tools");
    const names = body.tools.filter((t: any) => t.agent === "llm").map((t: any) => t.tool);
    expect(names).toEqual(expect.arrayContaining(["chat_completion", "generate_text", "analyze_image", "agent_run"]));
    expect(names.includes("embed_text")).toBe(type === "openai");
    const chat = body.tools.find((t: any) => t.name === "llm.chat_completion");
    expect(chat.input_schema.properties.messages.type).toBe("array");
    // The api validates against the published schema before enqueueing.
    const bad = await stack.admin.post("/api/v1/tasks", { agent_name: "llm", tool_name: "chat_completion", arguments: { prompt: 5 } });
    expect(bad.status).toBe(400);
    const neither = await stack.admin.post("/api/v1/tasks", { agent_name: "llm", tool_name: "chat_completion", arguments: {} });
    expect(neither.status).toBe(400);
  });

  it("completes a prompt with the normalized result, usage and cost", async () => {
    const task = await run(stack, "llm", "chat_completion", { prompt: "Say hello", temperature: 0.2, max_tokens: 50 });
    expect(task.status).toBe("completed");
    expect(task.result).toMatchObject({
      text: "Hello from the fake server.",
      tool_calls: [],
      finish_reason: "stop",
      usage: { ...expectedUsage, total_tokens: expectedUsage.input_tokens + expectedUsage.output_tokens },
      model: `${type}-test-model`,
      provider: type,
      agent: "llm",
      skipped: [],
    });
    expect(task.result.latency_ms).toBeGreaterThanOrEqual(0);
    expect(task.result.usage.cost_usd).toBeCloseTo((expectedUsage.input_tokens * 1_000 + expectedUsage.output_tokens * 2_000) / 1e6);
    const sent = lastRequest(fake);
    expect(sent.body.max_tokens).toBe(50);
    expect(sent.body.temperature).toBe(0.2);
    // Anthropic's SDK sends the key as x-api-key (older) or a bearer token (1.x).
    expect([sent.headers["x-api-key"], sent.headers.authorization]).toContain(
      type === "anthropic" && sent.headers["x-api-key"] ? key : `Bearer ${key}`,
    );

    const usage = await stack.admin.get("/api/v1/usage");
    expect(usage.status).toBe(200);
    expect(usage.body.tenant).toBe("acme");
    expect(usage.body.agents.llm.input_tokens).toBeGreaterThanOrEqual(expectedUsage.input_tokens);
    expect(usage.body.totals.cost_usd).toBeGreaterThan(0);
    const other = await stack.otherTenant.get("/api/v1/usage");
    expect(other.body.totals.requests).toBe(0);
  });

  it("streams tokens to the task's SSE stream (GET /tasks/{id}/events) and stores the full text", async () => {
    const text = "alpha beta gamma delta epsilon";
    // The provider waits before answering, so the stream is open before the first token.
    fake.setHandler(() => ({ text, delayMs: 1_000 }));
    const submitted = await stack.admin.post("/api/v1/tasks", {
      agent_name: "llm",
      tool_name: "generate_text",
      arguments: { prompt: "Greek", stream: true },
    });
    expect(submitted.status).toBe(201);
    const { status, events } = await readSse(`${stack.url}/api/v1/tasks/${submitted.body.task_id}/events`, ADMIN_KEY, 20_000);
    expect(status).toBe(200);
    const tokens = events.filter((e) => e.event === "progress" && e.data?.type === "token").map((e) => e.data.text);
    expect(tokens.length).toBeGreaterThan(0);
    expect(tokens.join("")).toBe(text);
    const statuses = events.filter((e) => e.event === "status").map((e) => e.data.status);
    expect(statuses.at(-1)).toBe("completed");
    expect((await waitForTask(stack.admin, submitted.body.task_id)).result.text).toBe(text);
  });

  it("streams tokens as progress events and still stores the full text", async () => {
    const progress = await watchProgress(stack.prefix, "llm");
    try {
      const text = "one two three four five six seven eight nine ten";
      fake.setHandler(() => ({ text }));
      const task = await run(stack, "llm", "generate_text", { prompt: "Count", stream: true });
      expect(task.status).toBe("completed");
      expect(task.result.text).toBe(text);
      expect(lastRequest(fake).body.stream).toBe(true);
      const tokens = await waitForTokens(() => progress.of(task.task_id), text);
      expect(tokens.every((e: any) => e.type === "token")).toBe(true);
      expect(tokens.map((e: any) => e.text).join("")).toBe(text);
      expect(task.result.usage.input_tokens).toBe(expectedUsage.input_tokens);
    } finally {
      await progress.close();
    }
  });

  it("translates tool definitions and returns normalized tool calls (streamed and not)", async () => {
    fake.setHandler(() => ({ tool_calls: [{ name: "get_weather", arguments: { city: "Paris", days: 2 } }] }));
    for (const stream of [false, true]) {
      const task = await run(stack, "llm", "chat_completion", {
        messages: [{ role: "user", content: "Weather in Paris?" }],
        tools: [
          { name: "get_weather", description: "Forecast", input_schema: { type: "object", properties: { city: { type: "string" } } } },
        ],
        stream,
      });
      expect(task.status).toBe("completed");
      expect(task.result.finish_reason).toBe("tool_calls");
      expect(task.result.tool_calls).toEqual([{ id: expect.any(String), name: "get_weather", arguments: { city: "Paris", days: 2 } }]);
      const sent = lastRequest(fake).body;
      if (type === "openai")
        expect(sent.tools[0]).toMatchObject({ type: "function", function: { name: "get_weather", parameters: { type: "object" } } });
      else expect(sent.tools[0]).toMatchObject({ name: "get_weather", input_schema: { type: "object" } });
    }
    // A tool result goes back in the provider's own format.
    fake.setHandler(() => ({ text: "Sunny." }));
    const task = await run(stack, "llm", "chat_completion", {
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Weather in Paris?" },
        { role: "assistant", content: null, tool_calls: [{ id: "call_9", name: "get_weather", arguments: { city: "Paris" } }] },
        { role: "tool", tool_call_id: "call_9", content: "sunny, 21C" },
      ],
    });
    expect(task.result.text).toBe("Sunny.");
    const sent = lastRequest(fake).body;
    if (type === "openai") {
      expect(sent.messages.at(-1)).toEqual({ role: "tool", tool_call_id: "call_9", content: "sunny, 21C" });
      expect(sent.messages[2].tool_calls[0].function).toEqual({ name: "get_weather", arguments: '{"city":"Paris"}' });
    } else {
      expect(sent.system).toBe("Be brief.");
      expect(sent.messages[1].content[0]).toMatchObject({ type: "tool_use", id: "call_9", name: "get_weather", input: { city: "Paris" } });
      expect(sent.messages[2]).toEqual({ role: "user", content: [{ type: "tool_result", tool_use_id: "call_9", content: "sunny, 21C" }] });
    }
  });

  it("sends images for analyze_image and parses JSON output", async () => {
    fake.setHandler(() => ({ text: '{"animal":"cat"}' }));
    const task = await run(stack, "llm", "analyze_image", {
      image_base64: "iVBORw0KGgo=",
      media_type: "image/png",
      prompt: "What animal?",
    });
    expect(task.status).toBe("completed");
    const sent = lastRequest(fake).body;
    const parts = sent.messages.at(-1).content;
    if (type === "openai") expect(parts[0]).toEqual({ type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } });
    else expect(parts[0]).toEqual({ type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } });
    const json = await run(stack, "llm", "chat_completion", { prompt: "animal?", response_format: { type: "json_object" } });
    expect(json.result.json).toEqual({ animal: "cat" });
  });

  it("honours Retry-After on 429 and retries 500/503 itself", async () => {
    let calls = 0;
    fake.setHandler(() => (calls++ === 0 ? { status: 429, headers: { "retry-after": "1" } } : { text: "after the wait" }));
    const before = fake.requests.length;
    const task = await run(stack, "llm", "generate_text", { prompt: "hi" });
    expect(task.status).toBe("completed");
    expect(task.result.text).toBe("after the wait");
    const [first, second] = fake.requests.slice(before);
    expect(fake.requests.length - before).toBe(2);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);

    let n = 0;
    fake.setHandler(() => (n++ === 0 ? { status: 500 } : n === 2 ? { status: 503 } : { text: "third time" }));
    const flaky = await run(stack, "llm", "generate_text", { prompt: "hi" }, { max_attempts: 1 });
    expect(flaky.status).toBe("completed");
    expect(flaky.result.text).toBe("third time");
    expect(n).toBe(3);
  });

  it("does not retry 401 and keeps the key out of the error", async () => {
    fake.setHandler(() => ({
      status: 401,
      json: { error: { message: `Incorrect API key provided: ${key}`, type: "invalid_request_error" } },
    }));
    const before = fake.requests.length;
    const task = await run(stack, "llm", "generate_text", { prompt: "hi" }, { max_attempts: 3 });
    expect(task.status).toBe("failed");
    expect(task.error.code).toBe("PROVIDER_ERROR");
    expect(task.error.message).toContain("401");
    expect(task.error.message).not.toContain(key);
    expect(task.attempts).toBe(1);
    expect(fake.requests.length - before).toBe(1);
  });

  it("fails on malformed JSON and on a truncated stream instead of answering short", async () => {
    fake.setHandler(() => ({ status: 200, raw: '{"id": "x", "choices": [' }));
    const malformed = await run(stack, "llm", "generate_text", { prompt: "hi" }, { max_attempts: 1 });
    expect(malformed.status, JSON.stringify(malformed)).toBe("failed");
    expect(malformed.error?.code, JSON.stringify(malformed)).toBe("PROVIDER_ERROR");

    for (const truncate of ["end", "destroy"] as const) {
      fake.setHandler(() => ({ truncate }));
      const task = await run(stack, "llm", "generate_text", { prompt: "hi", stream: true }, { max_attempts: 1 });
      expect(task.status, truncate).toBe("failed");
      expect(task.error?.code, JSON.stringify(task)).toBe("PROVIDER_ERROR");
      expect(task.result ?? null).toBeNull();
    }
  });

  it("times out a slow provider within the task's budget", async () => {
    fake.setHandler(() => ({ text: "too late", delayMs: 3_000 }));
    const task = await run(stack, "llm", "generate_text", { prompt: "hi" }, { max_attempts: 1, timeout_ms: 400 });
    expect(task.status).toBe("failed");
    expect(task.error.code).toBe("TIMEOUT");
  });

  if (type === "openai")
    it("embeds text", async () => {
      const task = await run(stack, "llm", "embed_text", { input: ["alpha", "beta"] });
      expect(task.status).toBe("completed");
      expect(task.result.embeddings).toHaveLength(2);
      expect(task.result.dimensions).toBe(4);
      expect(task.result.model).toBe("embed-test");
      expect(task.result.usage.input_tokens).toBe(2);
    });
});

async function waitForTokens(read: () => any[], text: string): Promise<any[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const events = read();
    if (events.map((e) => e.text).join("") === text || Date.now() > deadline) return events;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function lastRequest(fake: FakeLlmServer) {
  const request = fake.requests.at(-1);
  if (!request) throw new Error("the fake server saw no request");
  return request;
}
