import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { findFreePort, startEmbeddedRedis } from "@switchyard/redis";
import { expect, it } from "vitest";
import { spawnCli } from "../helpers/cli.js";
import { ADMIN_KEY } from "../helpers/stack.js";
import { waitFor } from "../helpers/wait.js";
import { inParallel, startApi, startWorker, stop, writeClusterConfig } from "./cluster.js";
import { report } from "./report.js";

/**
 * Redis SIGKILLed under load and restarted from its AOF (appendfsync always): every task whose
 * submission got a 201 still exists and completes; while Redis is down the api answers 503
 * quickly (never 500, never a hang); api, worker and coordinator reconnect by themselves.
 */
it("Redis killed and restarted from its AOF loses no acknowledged task", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "sy-chaos-aof-"));
  const port = await findFreePort();
  let redis = await startEmbeddedRedis({ dir, port, appendfsync: "always", searchPath: process.env.PATH });
  const url = redis.url;
  const { file } = writeClusterConfig();
  const api = await startApi(file, url);
  const worker = await startWorker(file, url);
  const coordinator = spawnCli(["coordinator", "--config", file], { env: { REDIS_URL: url } });
  await coordinator.waitFor(/coordinator ready/);

  const accepted = new Set<string>();
  const statuses = new Map<number, number>();
  let hangs = 0;
  let phase: "up" | "down" | "recovering" = "up";
  let downAnswers = 0;
  const submit = async () => {
    const started = Date.now();
    try {
      const response = await fetch(`${api.url}/api/v1/tasks`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ agent_name: "mock", tool_name: "sleep", arguments: { ms: 10 } }),
        signal: AbortSignal.timeout(5_000),
      });
      const body = (await response.json()) as { task_id?: string; error_code?: string };
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (response.status === 201 && body.task_id) accepted.add(body.task_id);
      if (phase === "down" && response.status === 503) downAnswers++;
      return response.status;
    } catch {
      hangs++;
      return 0;
    } finally {
      if (Date.now() - started > 5_000) hangs++;
    }
  };

  let running = true;
  const load = Promise.all(
    Array.from({ length: 8 }, async () => {
      while (running) await submit();
    }),
  );
  try {
    await waitFor(() => accepted.size >= 200, { timeoutMs: 30_000, what: "load before the kill" });
    await redis.kill();
    phase = "down";
    await waitFor(() => downAnswers >= 20, { timeoutMs: 15_000, what: "503s while Redis is down" });
    phase = "recovering";
    redis = await startEmbeddedRedis({ dir, port, appendfsync: "always", searchPath: process.env.PATH });
    const acceptedBefore = accepted.size;
    await waitFor(() => accepted.size >= acceptedBefore + 200, { timeoutMs: 60_000, what: "the api to accept tasks again" });
    running = false;
    await load;

    const ids = [...accepted];
    const views = await waitFor(
      async () => {
        const all = await inParallel(ids.length, 32, async (i) => (await api.client.get(`/api/v1/tasks/${ids[i]}`)).body);
        return all.every((v) => v?.status === "completed") ? all : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: "every accepted task to complete" },
    ).catch(async () => inParallel(ids.length, 32, async (i) => (await api.client.get(`/api/v1/tasks/${ids[i]}`)).body));
    const completed = views.filter((v) => v?.status === "completed").length;
    const fiveHundreds = [...statuses.entries()].filter(([s]) => s >= 500 && s !== 503).reduce((a, [, n]) => a + n, 0);
    report({
      scenario: "Redis SIGKILL + AOF restart",
      operations: [...statuses.values()].reduce((a, b) => a + b, 0),
      faults_injected: 1,
      tasks_accepted: ids.length,
      tasks_completed: completed,
      lost: ids.length - completed,
      duplicates: views.filter((v) => v?.attempts > 1).length,
      violations: fiveHundreds + hangs,
      statuses: Object.fromEntries(statuses),
    });
    expect(hangs).toBe(0);
    expect(fiveHundreds).toBe(0);
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
    expect(completed).toBe(ids.length);
    // Nothing needed a restart.
    for (const proc of [api.process, worker, coordinator]) expect(proc.child.exitCode).toBeNull();
  } finally {
    running = false;
    await load.catch(() => {});
    await Promise.all([stop(api.process), stop(worker), stop(coordinator)]);
    await redis.stop();
  }
});
