import { readFileSync } from "node:fs";
import http from "node:http";
import { QueueEvents } from "bullmq";
import { expect, it } from "vitest";
import { spawnCli } from "../helpers/cli.js";
import { connect, connectBlocking, redisUrl } from "../helpers/redis.js";
import { ADMIN_KEY } from "../helpers/stack.js";
import { waitFor } from "../helpers/wait.js";
import { startApi, startWorker, stop, writeClusterConfig } from "./cluster.js";
import { report } from "./report.js";

const SECONDS = Number(process.env.CHAOS_LOAD_SECONDS ?? 180);
const CONCURRENCY = 32;

function rssMiB(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

function percentile(sorted: number[], q: number): number {
  return Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) * 100) / 100;
}

/**
 * Submission through the HTTP API for minutes at the highest rate the machine holds: no errors,
 * memory of api, worker and Redis levels off (retention trims finished work), and the queue drains.
 */
it(`sustained load for ${SECONDS} s keeps memory bounded and loses nothing`, async () => {
  const url = redisUrl();
  // Short retention, so the run reaches the steady state where trimming matches intake.
  const { file, prefix } = writeClusterConfig({
    agents: { mock: { type: "mock", concurrency: 50 } },
    limits: { retention_seconds: 20, retention_count: 5_000, housekeeping_interval_ms: 5_000 },
  });
  const api = await startApi(file, url);
  const worker = await startWorker(file, url);
  const coordinator = spawnCli(["coordinator", "--config", file], { env: { REDIS_URL: url } });
  await coordinator.waitFor(/coordinator ready/);
  const redis = connect();
  // Completions counted from BullMQ's own event stream: retention deletes the jobs themselves.
  const events = new QueueEvents("agent.mock", { connection: connectBlocking(), prefix });
  const completed = new Set<string>();
  let failed = 0;
  events.on("completed", ({ jobId }) => completed.add(jobId));
  events.on("failed", () => failed++);
  await events.waitUntilReady();
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const target = new URL(api.url);
  const post = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: "POST",
          path: "/api/v1/tasks",
          headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end(body);
    });

  const samples: Array<{ t: number; redis: number; api: number; worker: number }> = [];
  const latencies: number[] = [];
  let errors = 0;
  let accepted = 0;
  const started = Date.now();
  const sampler = setInterval(async () => {
    const info = await redis.info("memory");
    samples.push({
      t: Date.now() - started,
      redis: Math.round(Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0) / 1_048_576),
      api: rssMiB(api.process.child.pid),
      worker: rssMiB(worker.child.pid),
    });
  }, 1_000);
  try {
    const body = JSON.stringify({ agent_name: "mock", tool_name: "echo", arguments: { message: "load" } });
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (Date.now() - started < SECONDS * 1_000) {
          const t0 = performance.now();
          const status = await post(body).catch(() => 0);
          latencies.push(performance.now() - t0);
          if (status === 201) accepted++;
          else errors++;
        }
      }),
    );
    const elapsed = (Date.now() - started) / 1_000;
    const queueKey = `${prefix}:agent.mock`;
    await waitFor(async () => (await redis.llen(`${queueKey}:wait`)) + (await redis.llen(`${queueKey}:active`)) === 0 || undefined, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: "the queue to drain",
    });
    await waitFor(() => completed.size >= accepted || undefined, { timeoutMs: 30_000, what: "every completion event" }).catch(() => {});
    clearInterval(sampler);
    const half = samples.filter((s) => s.t < (SECONDS * 1_000) / 2);
    const later = samples.filter((s) => s.t >= (SECONDS * 1_000) / 2);
    const peak = (rows: typeof samples, key: "redis" | "api" | "worker") => Math.max(...rows.map((r) => r[key]));
    const sorted = [...latencies].sort((a, b) => a - b);
    const growth = Object.fromEntries((["redis", "api", "worker"] as const).map((k) => [k, `${peak(half, k)} → ${peak(later, k)} MiB`]));
    report({
      scenario: `sustained load ${SECONDS} s`,
      operations: latencies.length,
      tasks_accepted: accepted,
      tasks_completed: completed.size,
      lost: accepted - completed.size,
      violations: errors + failed,
      rate_per_s: Math.round(accepted / elapsed),
      p50_ms: percentile(sorted, 0.5),
      p99_ms: percentile(sorted, 0.99),
      peak_memory: growth,
    });
    expect(errors).toBe(0);
    expect(failed).toBe(0);
    expect(completed.size).toBe(accepted);
    // Bounded: the second half's peak is not far above the first half's.
    for (const key of ["redis", "api", "worker"] as const) expect(peak(later, key)).toBeLessThanOrEqual(peak(half, key) * 1.5 + 30);
  } finally {
    clearInterval(sampler);
    await events.close();
    agent.destroy();
    redis.disconnect();
    await Promise.all([stop(api.process), stop(worker), stop(coordinator)]);
  }
});
