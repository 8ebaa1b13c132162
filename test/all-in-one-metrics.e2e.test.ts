import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type CliProcess, spawnCli } from "./helpers/cli.js";
import { apiClient } from "./helpers/http.js";
import { metricValue, scrape } from "./helpers/metrics.js";
import { redisUrl, uniquePrefix } from "./helpers/redis.js";
import { ADMIN_KEY, waitForTask } from "./helpers/stack.js";
import { waitFor } from "./helpers/wait.js";

/** `switchyard start`: one registry for api, worker and coordinator, served on the api port. */
describe("all-in-one /metrics and /readyz", () => {
  let cli: CliProcess | undefined;
  afterAll(async () => {
    if (cli && cli.child.exitCode === null) {
      cli.child.kill("SIGTERM");
      await cli.exited;
    }
  });

  it("serves worker, api and queue series together and checks the worker's agents in /readyz", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sy-aio-"));
    const config = path.join(dir, "switchyard.yaml");
    writeFileSync(
      config,
      [
        `data_dir: ${path.join(dir, ".switchyard")}`,
        "redis:",
        `  prefix: ${uniquePrefix("aio")}`,
        "auth:",
        "  keys:",
        `    - { key: ${ADMIN_KEY}, role: admin, tenant: acme }`,
        "metrics:",
        "  queue_cache_ms: 0",
        "agents:",
        "  mock:",
        "    type: mock",
      ].join("\n"),
    );
    cli = spawnCli(["start", "--config", config, "--port", "0"], { cwd: dir, env: { REDIS_URL: redisUrl() } });
    const [, url] = await cli.waitFor(/API\s+(http:\/\/\S+)\/api\/v1/);
    const api = apiClient(url as string, ADMIN_KEY);
    const task = await api.post("/api/v1/tasks", { agent_name: "mock", tool_name: "echo", arguments: {} });
    expect((await waitForTask(api, task.body.task_id)).status).toBe("completed");

    const { samples } = await waitFor(
      async () => {
        const result = await scrape(url as string);
        return metricValue(result.samples, "switchyard_tasks_total", { agent: "mock", outcome: "completed" }) === 1 ? result : undefined;
      },
      { what: "the worker's task count on the api's /metrics" },
    );
    expect(metricValue(samples, "switchyard_http_requests_total", { route: "/api/v1/tasks", method: "POST", status: "201" })).toBe(1);
    expect(metricValue(samples, "switchyard_queue_jobs", { queue: "agent.mock", state: "completed" })).toBe(1);
    expect(new Set(samples.map((s) => s.labels.service))).toEqual(new Set(["all-in-one"]));

    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { redis: "ok", queues: "ok", "agent:mock": "ok", coordinator: "ok" } });
  });
});
