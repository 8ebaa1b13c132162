// Scenario 5 (workflows): per-step overhead of a 100-step chain and wall time of a 1,000-wide
// fan-out/fan-in, beside raw BullMQ job latency (Queue.add → bare Worker → completed) on the same
// Redis in the same run. The chain and the fan-out are observed the way the raw side is: pushed
// (the run's SSE event stream, like the raw side's QueueEvents), not polled, since on 2 cores a
// 2 ms poll of a 100-step run document costs the api ~1 ms of CPU per step that the steps then
// compete with. The chain's per-step time is the median of BENCH_CHAIN_RUNS runs after
// BENCH_CHAIN_WARMUP runs, as the raw p50 is taken after a warm-up: the first runs of fresh
// processes are JIT warm-up (2-3x slower, CPU per step falling run by run). The 1-step runs are
// polled every 2 ms (quantisation ≤ 2 ms per run).
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { completionWatcher } from "../lib/completions.mjs";
import { ADMIN_KEY, benchRedis, ROOT, startProcess, stopProcess, writeConfig } from "../lib/env.mjs";
import { keepAliveClient } from "../lib/http.mjs";
import { printTable, round, summarize } from "../lib/stats.mjs";

const CHAIN = Number(process.env.BENCH_CHAIN ?? 100);
const FANOUT = Number(process.env.BENCH_FANOUT ?? 1_000);
const RAW_SERIAL = Number(process.env.BENCH_RAW_SERIAL ?? 300);
const CHAIN_RUNS = Number(process.env.BENCH_CHAIN_RUNS ?? 5);
const CHAIN_WARMUP = Number(process.env.BENCH_CHAIN_WARMUP ?? 2);

async function rawBullmq(redisUrl, prefix) {
  const queueName = "agent.mock";
  const { spawn } = await import("node:child_process");
  const child = spawn(process.execPath, [path.join(ROOT, "bench/lib/raw-worker.mjs"), redisUrl, prefix, queueName, "50"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => d.toString().includes("ready") && resolve());
    child.once("exit", (code) => reject(new Error(`raw worker exited ${code}`)));
  });
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection, prefix });
  const watcher = await completionWatcher(redisUrl, prefix, queueName);
  const serial = [];
  for (let i = 0; i < RAW_SERIAL; i++) {
    const t0 = performance.now();
    const job = await queue.add("echo", { arguments: { i } }, { removeOnComplete: { age: 3_600 } });
    await watcher.wait(job.id);
    serial.push(performance.now() - t0);
  }
  const t0 = performance.now();
  const jobs = await queue.addBulk(Array.from({ length: FANOUT }, (_, i) => ({ name: "echo", data: { arguments: { i } } })));
  await Promise.all(jobs.map((job) => watcher.wait(job.id)));
  const fanoutMs = performance.now() - t0;
  await watcher.close();
  await queue.close();
  connection.disconnect();
  await stopProcess(child);
  return { serial: summarize(serial.slice(20)), fanoutMs };
}

async function runWorkflow(client, name, input = {}) {
  const t0 = performance.now();
  const started = await client.request("POST", `/api/v1/workflows/${name}/runs`, { input });
  if (started.status !== 201) throw new Error(`start ${name}: HTTP ${started.status} ${JSON.stringify(started.body)}`);
  for (;;) {
    const run = await client.request("GET", `/api/v1/runs/${started.body.run_id}`);
    if (["completed", "failed", "cancelled"].includes(run.body.status)) {
      if (run.body.status !== "completed") throw new Error(`${name}: ${run.body.status} ${JSON.stringify(run.body.error)}`);
      return performance.now() - t0;
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Resolves when the run's SSE stream reports the run finished (the stream then ends). */
function runFinished(baseUrl, runId) {
  return new Promise((resolve, reject) => {
    const req = http.get(`${baseUrl}/api/v1/runs/${runId}/events`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`events ${runId}: HTTP ${res.statusCode}`));
      let text = "";
      let status;
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        text += chunk;
        for (let end = text.indexOf("\n\n"); end >= 0; end = text.indexOf("\n\n")) {
          const data = /^data: (.*)$/m.exec(text.slice(0, end))?.[1];
          text = text.slice(end + 2);
          const event = data ? JSON.parse(data) : undefined;
          if (event?.kind === "run" && ["completed", "failed", "cancelled"].includes(event.status) && !status) {
            status = event.status;
            resolve(status);
            req.destroy();
          }
        }
      });
      res.on("end", () => (status ? undefined : reject(new Error(`events ${runId}: stream ended without the run's end`))));
    });
    req.on("error", (error) => (error.code === "ECONNRESET" ? undefined : reject(error)));
  });
}

/** Start → the run's final event on its SSE stream (opened right after the start; it replays from the beginning). */
async function runWorkflowPushed(client, baseUrl, name, input = {}) {
  const t0 = performance.now();
  const started = await client.request("POST", `/api/v1/workflows/${name}/runs`, { input });
  if (started.status !== 201) throw new Error(`start ${name}: HTTP ${started.status} ${JSON.stringify(started.body)}`);
  const status = await runFinished(baseUrl, started.body.run_id);
  const ms = performance.now() - t0;
  if (status !== "completed") {
    const run = await client.request("GET", `/api/v1/runs/${started.body.run_id}`);
    throw new Error(`${name}: ${status} ${JSON.stringify(run.body.error)}`);
  }
  return ms;
}

async function switchyard(redisUrl, prefix, dir) {
  const config = writeConfig(dir, { prefix, agents: { mock: { type: "mock", concurrency: 50 } } });
  const env = { REDIS_URL: redisUrl, LOG_LEVEL: "info" };
  const worker = await startProcess(["worker", "--config", config], env, /worker ready/);
  const coordinator = await startProcess(["coordinator", "--config", config], env, /coordinator ready/);
  const api = await startProcess(["api", "--config", config], env, /"url":"(http:\/\/[^"]+)"/);
  const client = keepAliveClient(api.match[1], ADMIN_KEY, 8);
  const define = async (definition) => {
    const res = await client.request("POST", "/api/v1/workflows", definition);
    if (res.status >= 300) throw new Error(`define: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  };
  await define({
    name: "chain",
    steps: Array.from({ length: CHAIN }, (_, i) => ({
      step_id: `s${i}`,
      tool: "mock.echo",
      ...(i > 0 ? { depends_on: [`s${i - 1}`] } : {}),
      arguments: { i },
    })),
  });
  await define({
    name: "fanout",
    steps: [{ step_id: "each", foreach: `{{ [1..${FANOUT}] }}`, tool: "mock.echo", arguments: { i: "{{ item }}" } }],
  });
  await define({ name: "one", steps: [{ step_id: "only", tool: "mock.echo" }] });
  // Warm up (JIT, connections, definition caches).
  for (let i = 0; i < 20; i++) await runWorkflow(client, "one");
  const single = [];
  for (let i = 0; i < 50; i++) single.push(await runWorkflow(client, "one"));
  const baseUrl = api.match[1];
  for (let i = 0; i < CHAIN_WARMUP; i++) await runWorkflowPushed(client, baseUrl, "chain");
  const chains = [];
  for (let i = 0; i < CHAIN_RUNS; i++) chains.push(await runWorkflowPushed(client, baseUrl, "chain"));
  const fanoutMs = await runWorkflowPushed(client, baseUrl, "fanout");
  client.close();
  await Promise.all([stopProcess(api.child), stopProcess(coordinator.child), stopProcess(worker.child)]);
  return { single: summarize(single), chain: summarize(chains), fanoutMs };
}

export async function run() {
  const redis = await benchRedis();
  try {
    const raw = await rawBullmq(redis.url, "rawwf");
    const sy = await switchyard(redis.url, "sywf", redis.dir);
    const perStep = sy.chain.p50 / CHAIN;
    const overhead = round(perStep - raw.serial.p50, 2);
    const rows = [
      { measure: "raw BullMQ job latency, p50 (add → completed, serial)", ms: raw.serial.p50 },
      { measure: "1-step workflow run, p50 (HTTP start → run completed, polled)", ms: sy.single.p50 },
      { measure: `${CHAIN}-step chain: wall time, median of ${CHAIN_RUNS} (after ${CHAIN_WARMUP} warm-up)`, ms: round(sy.chain.p50, 0) },
      { measure: `${CHAIN}-step chain: wall time, slowest of ${CHAIN_RUNS}`, ms: round(sy.chain.p99, 0) },
      { measure: `${CHAIN}-step chain: time per step (median run)`, ms: round(perStep, 2) },
      { measure: "per-step overhead over raw BullMQ latency", ms: overhead },
      { measure: `${FANOUT}-wide fan-out (foreach, no cap): wall time`, ms: round(sy.fanoutMs, 0) },
      { measure: `${FANOUT} raw BullMQ jobs (addBulk → all completed): wall time`, ms: round(raw.fanoutMs, 0) },
    ];
    printTable(`Workflow engine: one worker, one coordinator, one api process; ${os.cpus().length} CPUs`, rows);
    printTable("Target: per-step overhead p50 ≤ 3 ms", [{ "per-step overhead ms": overhead, met: overhead <= 3 }]);
    return { rows, config: { chain: CHAIN, chainRuns: CHAIN_RUNS, chainWarmup: CHAIN_WARMUP, fanout: FANOUT, rawSerial: RAW_SERIAL } };
  } finally {
    await redis.stop();
  }
}
