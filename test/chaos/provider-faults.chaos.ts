import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeLlmServer, type Reply, startFakeAnthropic, startFakeOpenAI } from "../helpers/llm-servers.js";
import { type Stack, startStack, waitForTask } from "../helpers/stack.js";
import { inParallel } from "./cluster.js";
import { report } from "./report.js";

const PRIMARY_ANSWER = "The complete answer from the primary provider.";
const SECONDARY_ANSWER = "The complete answer from the secondary provider.";

let injected = 0;

/** A primary that answers each request with a random fault (or, sometimes, properly). */
function flaky(random: () => number): Reply {
  const r = random();
  if (r < 0.6) injected++;
  if (r < 0.15) return { status: 429, headers: { "retry-after": "0" } };
  if (r < 0.3) return { status: 500, json: { error: { message: "internal" } } };
  if (r < 0.4) return { status: 503 };
  if (r < 0.5) return { truncate: "end", text: "The complete" };
  if (r < 0.6) return { truncate: "destroy", text: "The compl" };
  if (r < 0.65) return { text: PRIMARY_ANSWER, delayMs: 800 }; // a slow body, within the budget
  return { text: PRIMARY_ANSWER };
}

/**
 * Providers that fail in every way a real one does (429, 500/503, truncated streams, slow
 * bodies): retries and the fallback chain absorb what they should, a truncated stream is never
 * a short answer, and a provider that only fails trips its circuit breaker (calls stop reaching it).
 */
describe("provider faults: 429, 5xx, truncated streams, slow bodies, circuit breaker", () => {
  let primary: FakeLlmServer;
  let secondary: FakeLlmServer;
  let broken: FakeLlmServer;
  let stack: Stack;
  // Deterministic faults (a seeded LCG) so a failing run can be replayed.
  let seed = 20_261_121;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };

  beforeAll(async () => {
    primary = await startFakeOpenAI(() => flaky(random));
    secondary = await startFakeAnthropic(() => ({ text: SECONDARY_ANSWER }));
    broken = await startFakeOpenAI(() => ({ status: 500, json: { error: { message: "always down" } } }));
    stack = await startStack({
      config: {
        limits: { backoff_ms: 10 },
        agents: {
          primary: {
            type: "openai",
            base_url: `${primary.url}/v1`,
            api_key: "sk-chaos-primary-0000",
            model: "gpt-flaky",
            concurrency: 8,
            retry: { max_retries: 2, initial_delay_ms: 5, max_delay_ms: 20 },
            circuit_breaker: { failure_threshold: 10_000 },
            fallback: ["secondary"],
          },
          solo: {
            type: "openai",
            base_url: `${primary.url}/v1`,
            api_key: "sk-chaos-primary-0000",
            model: "gpt-flaky-solo",
            concurrency: 8,
            retry: { max_retries: 1, initial_delay_ms: 5, max_delay_ms: 20 },
            circuit_breaker: { failure_threshold: 10_000 },
          },
          secondary: { type: "anthropic", base_url: secondary.url, api_key: "sk-ant-chaos-0000", model: "claude-steady" },
          broken: {
            type: "openai",
            base_url: `${broken.url}/v1`,
            api_key: "sk-chaos-broken-0000",
            model: "gpt-down",
            retry: { max_retries: 0 },
            circuit_breaker: { failure_threshold: 3, window_ms: 60_000, open_ms: 60_000 },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await Promise.all([primary?.close(), secondary?.close(), broken?.close()]);
  });

  const run = async (agent: string, args: Record<string, unknown>) => {
    const submitted = await stack.admin.post("/api/v1/tasks", {
      agent_name: agent,
      tool_name: "generate_text",
      arguments: args,
      max_attempts: 1,
      timeout_ms: 6_000,
    });
    expect(submitted.status).toBe(201);
    return waitForTask(stack.admin, submitted.body.task_id, 20_000);
  };

  it("never a short answer; retries and fallback absorb faults; the circuit opens on a dead provider", async () => {
    const N = 60;
    const violations: string[] = [];
    let completed = 0;
    let failedCleanly = 0;
    const before = primary.requests.length;
    const tasks = await inParallel(N, 8, (i) => run(i % 2 === 0 ? "primary" : "solo", { prompt: `q${i}`, stream: i % 3 !== 0 }));
    for (const [i, task] of tasks.entries()) {
      const withFallback = i % 2 === 0;
      if (task.status === "completed") {
        completed++;
        const text = task.result?.text;
        const full = text === PRIMARY_ANSWER || (withFallback && text === SECONDARY_ANSWER);
        if (!full) violations.push(`task ${i} completed with a short or wrong answer: ${JSON.stringify(text)}`);
      } else if (
        task.status === "failed" &&
        ["PROVIDER_ERROR", "TIMEOUT", "RATE_LIMITED", "PROVIDER_UNAVAILABLE"].includes(task.error?.code)
      ) {
        failedCleanly++;
        if (task.result?.text) violations.push(`task ${i} failed but kept a partial result`);
      } else violations.push(`task ${i}: ${task.status} ${JSON.stringify(task.error)}`);
    }
    const faultsSeen = primary.requests.length - before;
    // With the fallback, a failed primary is answered by the secondary: those tasks all complete.
    const fallbackFailures = tasks.filter((t, i) => i % 2 === 0 && t.status !== "completed").length;

    // A provider that only fails: after `failure_threshold` failures calls fail fast without reaching it.
    const brokenTasks = [];
    for (let i = 0; i < 8; i++) brokenTasks.push(await run("broken", { prompt: "x" }));
    const brokenCalls = broken.requests.length;
    if (brokenCalls > 3) violations.push(`the open circuit let ${brokenCalls} calls through (threshold 3)`);
    if (!brokenTasks.every((t) => t.status === "failed")) violations.push("a task on the dead provider did not fail");

    report({
      scenario: "provider 429 / 5xx / truncated / slow + circuit",
      operations: N + brokenTasks.length,
      faults_injected: injected + brokenCalls,
      tasks_accepted: N + brokenTasks.length,
      tasks_completed: completed,
      lost: N - completed - failedCleanly - violations.filter((v) => v.startsWith("task ")).length,
      violations: violations.length + fallbackFailures,
      failed_cleanly: failedCleanly,
      provider_requests: faultsSeen,
    });
    expect(violations).toEqual([]);
    expect(fallbackFailures).toBe(0);
    expect(completed).toBeGreaterThan(N / 2);
  });
});
