import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeLlmServer, startFakeAnthropic, startFakeOpenAI } from "./helpers/llm-servers.js";
import { type Stack, startStack, waitForTask } from "./helpers/stack.js";

const PRIMARY_KEY = "sk-primary-SECRET-a1b2c3d4e5";
const SECONDARY_KEY = "sk-ant-secondary-SECRET-f6e5d4";

describe("provider fallback chains and credentials", () => {
  let openai: FakeLlmServer;
  let anthropic: FakeLlmServer;
  let stack: Stack;

  beforeAll(async () => {
    // The primary is down (503, and echoes the key it got, as some providers do in errors).
    openai = await startFakeOpenAI((req) => ({
      status: 503,
      json: { error: { message: `overloaded; key ${String(req.headers.authorization)}` } },
    }));
    anthropic = await startFakeAnthropic(() => ({ text: "Answered by the secondary." }));
    stack = await startStack({
      config: {
        limits: { backoff_ms: 10 },
        agents: {
          primary: {
            type: "openai",
            base_url: `${openai.url}/v1`,
            api_key: PRIMARY_KEY,
            model: "gpt-primary",
            headers: { "x-extra-secret": "hdr-SECRET-998877" },
            retry: { max_retries: 1, initial_delay_ms: 10 },
            circuit_breaker: { failure_threshold: 1_000 },
            fallback: ["secondary"],
          },
          secondary: { type: "anthropic", base_url: anthropic.url, api_key: SECONDARY_KEY, model: "claude-secondary" },
          "globex-only": {
            type: "anthropic",
            base_url: anthropic.url,
            api_key: SECONDARY_KEY,
            model: "claude-private",
            tenants: ["globex"],
          },
          lonely: {
            type: "openai",
            base_url: `${openai.url}/v1`,
            api_key: PRIMARY_KEY,
            model: "gpt-lonely",
            retry: { max_retries: 0 },
            circuit_breaker: { failure_threshold: 1_000 },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await openai?.close();
    await anthropic?.close();
  });

  const run = async (agent: string, tool: string, args: Record<string, unknown>) => {
    const submitted = await stack.admin.post("/api/v1/tasks", { agent_name: agent, tool_name: tool, arguments: args, max_attempts: 1 });
    expect([201, 202]).toContain(submitted.status);
    return waitForTask(stack.admin, submitted.body.task_id);
  };

  it("answers from the second provider when the first returns 503, translating the messages", async () => {
    const before = openai.requests.length;
    const task = await run("primary", "chat_completion", {
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Who answers?" },
      ],
      stream: true,
    });
    expect(task.status).toBe("completed");
    expect(task.result).toMatchObject({
      text: "Answered by the secondary.",
      provider: "anthropic",
      agent: "secondary",
      model: "claude-secondary",
    });
    expect(task.result.skipped).toEqual([
      { agent: "primary", provider: "openai", model: "gpt-primary", code: "PROVIDER_ERROR", reason: expect.stringContaining("503") },
    ]);
    // The primary was retried (max_retries 1) before the chain moved on.
    expect(openai.requests.length - before).toBe(2);
    const sent = anthropic.requests.at(-1)?.body;
    expect(sent.system).toBe("Be brief.");
    expect(sent.messages).toEqual([{ role: "user", content: [{ type: "text", text: "Who answers?" }] }]);
  });

  it("takes the fallback chain from the task arguments too", async () => {
    const task = await run("lonely", "generate_text", { prompt: "hi", fallback: ["secondary"] });
    expect(task.status).toBe("completed");
    expect(task.result.agent).toBe("secondary");
    expect(task.result.skipped[0]).toMatchObject({ agent: "lonely", code: "PROVIDER_ERROR" });
    // Another tenant's agent is not a fallback for this one.
    const scoped = await run("lonely", "generate_text", { prompt: "hi", fallback: ["globex-only"] });
    expect(scoped.status).toBe("failed");
    expect(scoped.error.code).toBe("AGENT_UNAVAILABLE");
    expect(anthropic.requests.some((r) => r.body.model === "claude-private")).toBe(false);
    const alone = await run("lonely", "generate_text", { prompt: "hi" });
    expect(alone.status).toBe("failed");
    expect(alone.error.code).toBe("PROVIDER_ERROR");
  });

  it("never shows the credentials in logs, task records, errors or API responses", async () => {
    const failed = await run("lonely", "generate_text", { prompt: "hi" });
    expect(failed.status).toBe("failed");
    // The provider echoed the key in its error; what is stored is scrubbed.
    expect(failed.error.message).toContain("[redacted]");
    const bodies = [
      JSON.stringify(failed),
      JSON.stringify((await stack.admin.get("/api/v1/tasks?limit=50")).body),
      JSON.stringify((await stack.admin.get("/api/v1/agents")).body),
      JSON.stringify((await stack.admin.get("/api/v1/tools")).body),
      JSON.stringify((await stack.admin.get("/api/v1/usage")).body),
    ];
    // The keys did reach the providers: the test would be vacuous otherwise.
    expect(openai.requests.some((r) => r.headers.authorization === `Bearer ${PRIMARY_KEY}`)).toBe(true);
    expect(stack.logs.lines.length).toBeGreaterThan(0);
    for (const secret of [PRIMARY_KEY, SECONDARY_KEY, "hdr-SECRET-998877"]) {
      expect(stack.logs.text()).not.toContain(secret);
      for (const body of bodies) expect(body).not.toContain(secret);
    }
    expect(stack.logs.text()).not.toContain("SECRET");
  });
});
