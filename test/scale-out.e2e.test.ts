import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type CliProcess, spawnCli } from "./helpers/cli.js";
import { apiClient } from "./helpers/http.js";
import { metricValue, scrape } from "./helpers/metrics.js";
import { redisUrl, uniquePrefix } from "./helpers/redis.js";
import { ADMIN_KEY, waitForTask } from "./helpers/stack.js";

/**
 * The distributed deployment as real OS processes on one Redis: an api, a coordinator and three
 * workers. Work submitted to the api is spread across all three workers, which each count what
 * they ran on their own /metrics.
 */
describe("scale-out: api + coordinator + 3 workers as separate processes", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "sy-scale-"));
  const processes: CliProcess[] = [];

  afterAll(async () => {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGTERM");
    await Promise.all(processes.map((p) => p.exited));
  });

  it("spreads tasks over every worker and each worker's /metrics counts its share", async () => {
    const config = path.join(dir, "switchyard.yaml");
    writeFileSync(
      config,
      [
        "redis:",
        `  prefix: ${uniquePrefix("scale")}`,
        "auth:",
        "  keys:",
        `    - { key: ${ADMIN_KEY}, role: admin, tenant: acme }`,
        "metrics:",
        "  host: 127.0.0.1",
        "  queue_cache_ms: 0",
        "agents:",
        "  mock:",
        "    type: mock",
        "    concurrency: 2",
      ].join("\n"),
    );
    const env = { REDIS_URL: redisUrl(), LOG_LEVEL: "info" };
    const spawn = (args: string[]) => {
      const p = spawnCli([...args, "--config", config], { cwd: dir, env });
      processes.push(p);
      return p;
    };
    const api = spawn(["api", "--port", "0"]);
    const coordinator = spawn(["coordinator", "--metrics-port", "0"]);
    const workers = [0, 1, 2].map(() => spawn(["worker", "--metrics-port", "0"]));

    const urlOf = async (p: CliProcess, message: string) =>
      (await p.waitFor(new RegExp(`"url":"(http://[^"]+)"[^\\n]*"msg":"${message}"`)))[1] as string;
    const apiUrl = await urlOf(api, "api listening");
    const coordinatorUrl = await urlOf(coordinator, "coordinator metrics listening");
    const workerUrls = await Promise.all(workers.map((w) => urlOf(w, "worker metrics listening")));
    await Promise.all(workers.map((w) => w.waitFor(/"msg":"worker ready"/)));
    expect(new Set(workerUrls).size).toBe(3);

    const client = apiClient(apiUrl, ADMIN_KEY);
    const total = 30;
    const ids: string[] = [];
    for (let i = 0; i < total; i++) {
      const response = await client.post("/api/v1/tasks", { agent_name: "mock", tool_name: "sleep", arguments: { ms: 150 } });
      expect(response.status).toBe(201);
      ids.push(response.body.task_id);
    }
    for (const id of ids) expect((await waitForTask(client, id, 30_000)).status).toBe("completed");

    const perWorker: number[] = [];
    for (const url of workerUrls) {
      const { samples } = await scrape(url);
      perWorker.push(metricValue(samples, "switchyard_tasks_total", { agent: "mock", tool: "sleep", outcome: "completed" }) ?? 0);
    }
    // Every worker took a share; together they ran each task exactly once.
    for (const count of perWorker) expect(count).toBeGreaterThan(0);
    expect(perWorker.reduce((a, b) => a + b, 0)).toBe(total);

    // The api sees the whole queue; the coordinator and every worker report ready.
    const apiMetrics = await scrape(apiUrl);
    expect(metricValue(apiMetrics.samples, "switchyard_queue_jobs", { queue: "agent.mock", state: "completed" })).toBe(total);
    for (const url of [apiUrl, coordinatorUrl, ...workerUrls]) {
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status, url).toBe(200);
    }
    const coordinatorMetrics = await scrape(coordinatorUrl);
    expect(coordinatorMetrics.samples.some((s) => s.labels.service === "coordinator")).toBe(true);

    // Graceful stop: every process exits 0 on SIGTERM.
    for (const p of processes) p.child.kill("SIGTERM");
    for (const p of processes) expect((await p.exited).code).toBe(0);
  }, 60_000);

  it("two workers on one host share the configured metrics port: the second moves to a free one", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    await new Promise((resolve) => taken.close(resolve));
    const config = path.join(dir, "ports.yaml");
    writeFileSync(
      config,
      [
        "redis:",
        `  prefix: ${uniquePrefix("ports")}`,
        "metrics:",
        "  host: 127.0.0.1",
        `  port: ${port}`,
        "agents:",
        "  mock:",
        "    type: mock",
      ].join("\n"),
    );
    const spawnWorker = () => {
      const p = spawnCli(["worker", "--config", config], { cwd: dir, env: { REDIS_URL: redisUrl() } });
      processes.push(p);
      return p;
    };
    const first = spawnWorker();
    await first.waitFor(new RegExp(`"url":"http://127\\.0\\.0\\.1:${port}"[^\\n]*"msg":"worker metrics listening"`));
    const second = spawnWorker();
    const [, moved] = await second.waitFor(/"url":"(http:\/\/[^"]+)"[^\n]*"msg":"worker metrics listening"/);
    expect(second.output()).toContain("metrics port in use; serving on a free port instead");
    expect(moved).not.toBe(`http://127.0.0.1:${port}`);
    for (const url of [`http://127.0.0.1:${port}`, moved as string]) expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });
});
