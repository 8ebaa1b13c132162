import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricValue, scrape } from "./helpers/metrics.js";
import { EVERYTHING_SERVER, type Stack, startStack, waitForTask } from "./helpers/stack.js";
import { waitFor } from "./helpers/wait.js";

/** promtool comes with Debian's `prometheus` package (.ci/run installs it). */
function promtoolCheck(text: string): { code: number | null; output: string } {
  const result = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  if (result.error) throw new Error(`promtool not runnable (apt-get install prometheus): ${result.error.message}`);
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("/metrics after a workload", () => {
  let stack: Stack;
  const ids: Record<string, string[]> = { echo: [], fail: [], flaky: [], timeout: [] };

  beforeAll(async () => {
    stack = await startStack({
      workerOps: true,
      config: {
        agents: {
          mock: { type: "mock" },
          everything: { type: "mcp", command: "node", args: [EVERYTHING_SERVER, "stdio"] },
        },
        limits: { backoff_ms: 20 },
        metrics: { queue_cache_ms: 0 },
      },
    });
    const submit = async (kind: string, body: Record<string, unknown>) => {
      const response = await stack.operator.post("/api/v1/tasks", { agent_name: "mock", ...body });
      expect(response.status).toBe(201);
      ids[kind]?.push(response.body.task_id);
    };
    for (let i = 0; i < 3; i++) await submit("echo", { tool_name: "echo", arguments: { message: `m${i}` } });
    await submit("fail", { tool_name: "fail", arguments: { message: "boom" } });
    await submit("flaky", { tool_name: "fail", arguments: { fail_attempts: 1 }, max_attempts: 2 });
    await submit("timeout", { tool_name: "sleep", arguments: { ms: 60_000 }, timeout_ms: 150, max_attempts: 1 });
    for (const id of Object.values(ids).flat()) await waitForTask(stack.viewer, id);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("the worker counts tasks, retries and timeouts by agent, tool and outcome", async () => {
    const url = stack.worker?.opsUrl as string;
    // Final outcomes are recorded just after BullMQ stores them: wait for the last one to land.
    const { samples, contentType } = await waitFor(
      async () => {
        const result = await scrape(url);
        return metricValue(result.samples, "switchyard_tasks_total", { agent: "mock" }) === 7 ? result : undefined;
      },
      { what: "7 task outcomes on the worker" },
    );
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const tasks = (tool: string, outcome: string) => metricValue(samples, "switchyard_tasks_total", { agent: "mock", tool, outcome });
    expect(tasks("echo", "completed")).toBe(3);
    expect(tasks("fail", "failed")).toBe(1);
    expect(tasks("fail", "retry")).toBe(1);
    expect(tasks("fail", "completed")).toBe(1);
    expect(tasks("sleep", "timeout")).toBe(1);
    expect(metricValue(samples, "switchyard_task_retries_total", { agent: "mock", tool: "fail" })).toBe(1);
    expect(metricValue(samples, "switchyard_task_timeouts_total", { agent: "mock", tool: "sleep" })).toBe(1);
    expect(metricValue(samples, "switchyard_tool_call_duration_seconds_count", { agent: "mock", tool: "echo", outcome: "completed" })).toBe(
      3,
    );
    // End-to-end task latency: one observation per task, none per retry.
    expect(metricValue(samples, "switchyard_task_duration_seconds_count", { agent: "mock", tool: "fail" })).toBe(2);
    expect(metricValue(samples, "switchyard_task_duration_seconds_count", { agent: "mock", tool: "echo" })).toBe(3);
    expect(metricValue(samples, "switchyard_tasks_in_flight", { agent: "mock" })).toBe(0);
    // Agent health and MCP restarts come from the clients at scrape time.
    expect(metricValue(samples, "switchyard_agent_up", { agent: "everything" })).toBe(1);
    expect(metricValue(samples, "switchyard_mcp_server_restarts_total", { agent: "everything" })).toBe(0);
    expect(metricValue(samples, "process_cpu_seconds_total")).toBeGreaterThan(0);
    // Bounded labels: no task id anywhere in the output.
    for (const sample of samples) for (const value of Object.values(sample.labels)) expect(value).not.toMatch(/^tsk_/);
  });

  it("the api counts requests by route template and status, and reports queue depth", async () => {
    const { samples, text } = await scrape(stack.url);
    expect(metricValue(samples, "switchyard_http_requests_total", { method: "POST", route: "/api/v1/tasks", status: "201" })).toBe(6);
    expect(
      metricValue(samples, "switchyard_http_requests_total", { method: "GET", route: "/api/v1/tasks/:id", status: "200" }),
    ).toBeGreaterThanOrEqual(6);
    expect(
      metricValue(samples, "switchyard_http_request_duration_seconds_count", { method: "POST", route: "/api/v1/tasks", status: "201" }),
    ).toBe(6);
    expect(metricValue(samples, "switchyard_queue_jobs", { queue: "agent.mock", state: "completed" })).toBe(4);
    expect(metricValue(samples, "switchyard_queue_jobs", { queue: "agent.mock", state: "failed" })).toBe(2);
    expect(metricValue(samples, "switchyard_queue_jobs", { queue: "agent.mock", state: "waiting" })).toBe(0);
    expect(metricValue(samples, "switchyard_queue_oldest_job_age_seconds", { queue: "agent.mock" })).toBe(0);
    expect(text).not.toContain("tsk_");
  });

  it("queue depth and oldest-job age grow while nothing serves a queue", async () => {
    // A second api without a worker: jobs wait.
    const idle = await startStack({ worker: false, coordinator: false, config: { agents: { mock: { type: "mock" } } } });
    try {
      // An agent no worker has published yet still accepts tasks: they wait in its queue.
      const submitted = await idle.operator.post("/api/v1/tasks", { agent_name: "mock", tool_name: "echo", arguments: {} });
      expect(submitted.status).toBe(201);
      const { samples } = await waitFor(
        async () => {
          const result = await scrape(idle.url);
          return (metricValue(result.samples, "switchyard_queue_oldest_job_age_seconds", { queue: "agent.mock" }) ?? 0) > 0
            ? result
            : undefined;
        },
        { what: "an oldest-job age above 0", timeoutMs: 10_000 },
      );
      expect(metricValue(samples, "switchyard_queue_jobs", { queue: "agent.mock", state: "waiting" })).toBe(1);
    } finally {
      await idle.close();
    }
  });

  it("every log line of a task carries its task id; requests carry a request id", async () => {
    const echoId = ids.echo?.[0] as string;
    const lines = stack.logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const completed = lines.filter((line) => line.msg === "task completed" && line.task_id === echoId);
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({ agent: "mock", tool: "echo", attempt: 1 });
    const response = await stack.viewer.get(`/api/v1/tasks/${echoId}`, { "x-request-id": "req-abc-123" });
    expect(response.headers.get("x-request-id")).toBe("req-abc-123");
    const generated = await stack.viewer.get(`/api/v1/tasks/${echoId}`);
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("promtool check metrics accepts the api's and the worker's output", async () => {
    for (const url of [stack.url, stack.worker?.opsUrl as string]) {
      const { text } = await scrape(url);
      const result = promtoolCheck(text);
      expect(result.output).toBe("");
      expect(result.code).toBe(0);
    }
  });

  it("the worker's /readyz says which agents are connected; /healthz is up", async () => {
    const url = stack.worker?.opsUrl as string;
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: "ok" });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { redis: "ok", "agent:mock": "ok", "agent:everything": "ok" } });
  });
});
