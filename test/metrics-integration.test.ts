import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeLlmServer, startFakeOpenAI } from "./helpers/llm-servers.js";
import { metricValue, parseMetrics, scrape } from "./helpers/metrics.js";
import { type Stack, startStack, waitForTask } from "./helpers/stack.js";
import { define, startRun, waitForRun } from "./helpers/workflows.js";

/**
 * Metrics fed by the providers and the workflow engine: provider tokens, cost and requests from a
 * real provider call (through the official SDK against a local server), circuit state per provider
 * agent, and workflow run and step durations from the coordinator.
 */
describe("provider and workflow metrics", () => {
  let fake: FakeLlmServer;
  let stack: Stack;

  beforeAll(async () => {
    fake = await startFakeOpenAI(() => ({ text: "hello", usage: { input: 11, output: 7 } }));
    stack = await startStack({
      workerOps: true,
      config: {
        agents: {
          mock: { type: "mock" },
          gpt: {
            type: "openai",
            base_url: `${fake.url}/v1`,
            api_key: "sk-metrics-test-key-000",
            model: "m1",
            pricing: { m1: { input_per_1m: 1_000_000, output_per_1m: 2_000_000 } },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await fake?.close();
  });

  it("counts provider tokens and cost, and shows the circuit state", async () => {
    const task = await stack.operator.post("/api/v1/tasks", {
      agent_name: "gpt",
      tool_name: "chat_completion",
      arguments: { prompt: "hi" },
    });
    expect(task.status).toBe(201);
    expect((await waitForTask(stack.viewer, task.body.task_id)).status).toBe("completed");
    const { samples } = await scrape(`${stack.worker?.opsUrl}`);
    expect(metricValue(samples, "switchyard_provider_tokens_total", { agent: "gpt", model: "m1", kind: "input" })).toBe(11);
    expect(metricValue(samples, "switchyard_provider_tokens_total", { agent: "gpt", model: "m1", kind: "output" })).toBe(7);
    // 11 input tokens at $1 each and 7 output tokens at $2 each.
    expect(metricValue(samples, "switchyard_provider_cost_usd_total", { agent: "gpt", model: "m1" })).toBeCloseTo(25, 6);
    expect(metricValue(samples, "switchyard_circuit_breaker_state", { agent: "gpt" })).toBe(0);
  });

  it("records workflow run and step durations", async () => {
    await define(stack.operator, {
      name: "metered",
      steps: [
        { step_id: "a", tool: "mock.echo", arguments: { x: 1 } },
        { step_id: "b", depends_on: ["a"], tool: "mock.echo", arguments: { y: 2 } },
      ],
    });
    const run = await waitForRun(stack.operator, await startRun(stack.operator, "metered", {}));
    expect(run.status).toBe("completed");
    // The coordinator's registry (in `switchyard start` it is the one the api serves).
    const samples = parseMetrics(await (stack.coordinator?.metrics.registry.metrics() ?? Promise.resolve("")));
    expect(metricValue(samples, "switchyard_workflow_runs_total", { workflow: "metered", outcome: "completed" })).toBe(1);
    expect(
      metricValue(samples, "switchyard_workflow_step_duration_seconds_count", { workflow: "metered", step: "b", outcome: "completed" }),
    ).toBe(1);
  });
});
