import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CircuitBreakerStore, Keys } from "@switchyard/store";
import { afterAll, describe, expect, it } from "vitest";
import { type CliProcess, spawnCli } from "./helpers/cli.js";
import { type FakeLlmServer, startFakeOpenAI } from "./helpers/llm-servers.js";
import { connect, redisUrl } from "./helpers/redis.js";
import { type Stack, startStack, waitForTask } from "./helpers/stack.js";
import { waitFor } from "./helpers/wait.js";

/**
 * The circuit breaker's state lives in Redis: failures seen by one worker open the circuit for
 * every worker. Here the in-process worker trips it, stops, and a second worker PROCESS (the
 * real CLI) rejects calls without touching the provider, then closes the circuit after recovery.
 */
describe("provider circuit breaker shared through Redis", () => {
  let fake: FakeLlmServer;
  let stack: Stack;
  let second: CliProcess | undefined;
  const redis = connect();

  afterAll(async () => {
    if (second && second.child.exitCode === null) {
      second.child.kill("SIGTERM");
      await second.exited;
    }
    await stack?.close();
    await fake?.close();
    redis.disconnect();
  });

  it("opens after the configured failures, is seen by a second worker process, and closes after recovery", async () => {
    fake = await startFakeOpenAI(() => ({ status: 500 }));
    const agents = {
      flaky: {
        type: "openai",
        base_url: `${fake.url}/v1`,
        api_key: "sk-breaker-test-key-000",
        model: "m1",
        retry: { max_retries: 0 },
        circuit_breaker: { failure_threshold: 3, window_ms: 60_000, open_ms: 1_500 },
      },
    };
    stack = await startStack({ config: { limits: { backoff_ms: 10 }, agents } });
    const breakers = new CircuitBreakerStore(redis, new Keys(stack.prefix));

    const dir = mkdtempSync(path.join(tmpdir(), "sy-breaker-"));
    const file = path.join(dir, "switchyard.yaml");
    writeFileSync(file, JSON.stringify({ redis: { prefix: stack.prefix }, limits: { backoff_ms: 10 }, agents }));
    second = spawnCli(["worker", "--config", file], { env: { REDIS_URL: redisUrl() } });
    await second.waitFor(/worker ready/);

    const run = async () => {
      const submitted = await stack.admin.post("/api/v1/tasks", {
        agent_name: "flaky",
        tool_name: "generate_text",
        arguments: { prompt: "hi" },
        max_attempts: 1,
      });
      expect([201, 202]).toContain(submitted.status);
      return waitForTask(stack.admin, submitted.body.task_id);
    };

    for (let i = 0; i < 3; i++) {
      const task = await run();
      expect(task.status).toBe("failed");
      expect(task.error.code).toBe("PROVIDER_ERROR");
    }
    expect(fake.requests.length).toBe(3);
    expect((await breakers.read("flaky")).m1).toMatchObject({ state: "open", opened: 1 });
    const listed = await stack.admin.get("/api/v1/agents/flaky");
    expect(listed.body.circuit.m1).toMatchObject({ state: "open", opened: 1 });

    // Only the second process serves the agent now.
    await stack.worker?.close();
    const rejected = await run();
    expect(rejected.status).toBe("failed");
    expect(rejected.error.code).toBe("CIRCUIT_OPEN");
    expect(fake.requests.length).toBe(3);

    // The provider recovers; once open_ms has passed one probe goes through and closes the circuit.
    fake.setHandler(() => ({ text: "back again" }));
    await waitFor(async () => (await breakers.read("flaky")).m1?.state === "half_open", {
      what: "the open period to end",
      timeoutMs: 5_000,
    });
    const recovered = await run();
    expect(recovered.status).toBe("completed");
    expect(recovered.result.text).toBe("back again");
    expect((await breakers.read("flaky")).m1).toMatchObject({ state: "closed", failures: 0 });
    expect((await stack.admin.get("/api/v1/agents")).body.agents[0].circuit.m1.state).toBe("closed");
    // The rejection happened in the second process.
    expect(second.output()).toContain("CIRCUIT_OPEN");
  });
});
