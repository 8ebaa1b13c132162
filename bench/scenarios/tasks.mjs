// Scenario 1 (tasks: throughput and latency), 2 (Redis cost) and 6 (scale, memory):
// Switchyard through its HTTP API beside raw BullMQ, same Redis, same machine, same run.
import path from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { closedLoop, completionWatcher } from "../lib/completions.mjs";
import {
  ADMIN_KEY,
  benchRedis,
  cpuMs,
  ROOT,
  redisCounters,
  resetCommandStats,
  rssMiB,
  startProcess,
  startScript,
  stopProcess,
  writeConfig,
} from "../lib/env.mjs";
import { keepAliveClient } from "../lib/http.mjs";
import { interleavedSerial } from "../lib/measure.mjs";
import { printTable, round, summarize } from "../lib/stats.mjs";

const N = Number(process.env.BENCH_TASKS ?? 3_000);
const WARMUP = Math.min(500, N);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const SERIAL = Number(process.env.BENCH_TASKS_SERIAL ?? 500);
const WORKER_CONCURRENCY = 50;
const JOB_OPTIONS = {
  // The same durability and retention Switchyard gives a task, so the floor is a fair one.
  attempts: 3,
  backoff: { type: "exponential", delay: 1_000 },
  removeOnComplete: { age: 3_600, count: 100_000 },
  removeOnFail: { age: 3_600, count: 100_000 },
};

/** CPU used by each process over a phase, for CPU-per-task figures. */
function cpuMeter(pids) {
  const start = () => ({ self: process.cpuUsage(), ...Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid)])) });
  const before = start();
  return () => {
    const self = process.cpuUsage(before.self);
    const used = { "load generator": (self.user + self.system) / 1_000 };
    for (const [k, pid] of Object.entries(pids)) used[k] = cpuMs(pid) - before[k];
    return used;
  };
}

/**
 * The measured phases every system goes through: warm-up, then N tasks at CONCURRENCY with Redis
 * command and memory deltas and CPU per process. (Serial latency is taken later, interleaved
 * across the systems.) `during` runs alongside the loaded phase (memory sampling) and returns its stop.
 */
async function measurePhase(redisUrl, op, pids, { during } = {}) {
  await closedLoop(WARMUP, CONCURRENCY, op);
  const stopDuring = during?.();
  const before = await redisCounters(redisUrl);
  await resetCommandStats(redisUrl);
  const meter = cpuMeter(pids);
  const result = await closedLoop(N, CONCURRENCY, op);
  const cpu = meter();
  const after = await redisCounters(redisUrl);
  stopDuring?.();
  return {
    ...result,
    commandsPerTask: after.calls / N,
    bytesPerTask: (after.usedMemory - before.usedMemory) / N,
    cpu,
  };
}

async function rawBullmq(redisUrl, prefix, redisPid) {
  const queueName = "agent.mock";
  const worker = await startRawWorker(redisUrl, prefix, queueName);
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection, prefix });
  const watcher = await completionWatcher(redisUrl, prefix, queueName);
  let i = 0;
  const op = async () => {
    const job = await queue.add("echo", { arguments: { message: `m${i++}` } }, JOB_OPTIONS);
    const done = await watcher.wait(job.id);
    if (!done.ok) throw new Error(done.failedReason);
    return done.at;
  };
  const measured = await measurePhase(redisUrl, op, { worker: worker.child.pid, redis: redisPid });
  const stop = async () => {
    await watcher.close();
    await queue.close();
    connection.disconnect();
    await stopProcess(worker.child);
  };
  return { ...measured, op, stop };
}

/** Bare Express → Queue.add → the same raw worker: the floor of any HTTP API over BullMQ. */
async function bareApi(redisUrl, prefix, redisPid) {
  const queueName = "agent.mock";
  const worker = await startRawWorker(redisUrl, prefix, queueName);
  const api = await startScript(
    path.join(ROOT, "bench/lib/bare-api.mjs"),
    [redisUrl, prefix, queueName],
    { JOB_OPTIONS: JSON.stringify(JOB_OPTIONS) },
    /bare api (http:\/\/\S+)/,
  );
  const client = keepAliveClient(api.match[1], ADMIN_KEY, CONCURRENCY);
  const watcher = await completionWatcher(redisUrl, prefix, queueName);
  let i = 0;
  const op = async () => {
    const res = await client.request("POST", "/tasks", { agent_name: "mock", tool_name: "echo", arguments: { message: `m${i++}` } });
    if (res.status !== 201) throw new Error(`HTTP ${res.status}`);
    const done = await watcher.wait(res.body.task_id);
    if (!done.ok) throw new Error(done.failedReason);
    return done.at;
  };
  const measured = await measurePhase(redisUrl, op, { api: api.child.pid, worker: worker.child.pid, redis: redisPid });
  const stop = async () => {
    client.close();
    await watcher.close();
    await Promise.all([stopProcess(api.child), stopProcess(worker.child)]);
  };
  return { ...measured, op, stop };
}

function startRawWorker(redisUrl, prefix, queue) {
  return startScript(path.join(ROOT, "bench/lib/raw-worker.mjs"), [redisUrl, prefix, queue, String(WORKER_CONCURRENCY)], {}, /ready/);
}

async function switchyard(redisUrl, prefix, workers, dir, redisPid) {
  const config = writeConfig(dir, { prefix, agents: { mock: { type: "mock", concurrency: WORKER_CONCURRENCY } } });
  const env = { REDIS_URL: redisUrl };
  const workerProcs = await Promise.all(
    Array.from({ length: workers }, () => startProcess(["worker", "--config", config], { ...env, LOG_LEVEL: "info" }, /worker ready/)),
  );
  const api = await startProcess(["api", "--config", config], { ...env, LOG_LEVEL: "info" }, /"url":"(http:\/\/[^"]+)"/);
  const url = api.match[1];
  const memoryAtRest = { api: rssMiB(api.pid), worker: rssMiB(workerProcs[0].pid) };
  const client = keepAliveClient(url, ADMIN_KEY, CONCURRENCY);
  const watcher = await completionWatcher(redisUrl, prefix, "agent.mock");
  let i = 0;
  const op = async () => {
    const res = await client.request("POST", "/api/v1/tasks", { agent_name: "mock", tool_name: "echo", arguments: { message: `m${i++}` } });
    if (res.status !== 201) throw new Error(`HTTP ${res.status} ${JSON.stringify(res.body)}`);
    const done = await watcher.wait(res.body.task_id);
    if (!done.ok) throw new Error(done.failedReason);
    return done.at;
  };
  const peak = { api: 0, worker: 0 };
  const sampleMemory = () => {
    const sampler = setInterval(() => {
      peak.api = Math.max(peak.api, rssMiB(api.pid));
      peak.worker = Math.max(peak.worker, ...workerProcs.map((w) => rssMiB(w.pid)));
    }, 100);
    return () => clearInterval(sampler);
  };
  const measured = await measurePhase(
    redisUrl,
    op,
    { api: api.pid, worker: workerProcs[0].pid, redis: redisPid },
    { during: sampleMemory },
  );
  const stop = async () => {
    client.close();
    await watcher.close();
    await Promise.all([stopProcess(api.child), ...workerProcs.map((w) => stopProcess(w.child))]);
  };
  return { ...measured, memoryAtRest, memoryPeak: peak, op, stop };
}

function row(name, r) {
  const s = summarize(r.latencies);
  const one = summarize(r.serial);
  return {
    system: name,
    tasks: s.n,
    errors: r.errors.length,
    "tasks/s": round((s.n / r.wallMs) * 1_000, 0),
    [`c=${CONCURRENCY} p50 ms`]: s.p50,
    [`c=${CONCURRENCY} p99 ms`]: s.p99,
    "c=1 p50 ms": one.p50,
    "c=1 p95 ms": one.p95,
    "c=1 p99 ms": one.p99,
    "redis cmds/task": round(r.commandsPerTask, 1),
    "bytes/retained task": round(r.bytesPerTask, 0),
  };
}

export async function run() {
  const redis = await benchRedis();
  try {
    const raw = await rawBullmq(redis.url, "rawbench", redis.pid);
    const bare = await bareApi(redis.url, "barebench", redis.pid);
    const sy = await switchyard(redis.url, "sybench", 1, redis.dir, redis.pid);
    // Latency at concurrency 1, the three systems interleaved (they are all up by now).
    const systems = [raw, sy, bare];
    const serial = await interleavedSerial(
      systems.map((system) => system.op),
      SERIAL,
    );
    for (const [k, system] of systems.entries()) {
      system.serial = serial[k].latencies;
      system.errors.push(...serial[k].errors);
    }
    await Promise.all(systems.map((system) => system.stop()));
    const rows = [
      row("raw BullMQ (Queue.add → Worker)", raw),
      row("Switchyard (HTTP API → worker)", sy),
      row("bare Express → Queue.add (HTTP floor)", bare),
    ];
    printTable(
      `Tasks: ${N} no-op tasks at ${CONCURRENCY} in flight, then ${SERIAL} at 1 in flight (interleaved across the three); worker concurrency ${WORKER_CONCURRENCY}, one worker process`,
      rows,
    );
    const ratios = {
      throughput_ratio: round(rows[1]["tasks/s"] / rows[0]["tasks/s"], 3),
      http_floor_throughput_ratio: round(rows[2]["tasks/s"] / rows[0]["tasks/s"], 3),
      added_p50_ms_c1: round(rows[1]["c=1 p50 ms"] - rows[0]["c=1 p50 ms"], 2),
      [`added_p50_ms_c${CONCURRENCY}`]: round(rows[1][`c=${CONCURRENCY} p50 ms`] - rows[0][`c=${CONCURRENCY} p50 ms`], 2),
      redis_commands_ratio: round(sy.commandsPerTask / raw.commandsPerTask, 3),
    };
    printTable("Ratios (targets: throughput ≥ 0.6, added p50 at c=1 ≤ 1 ms, commands ≤ 1.5×)", [ratios]);
    // Where the two cores go: CPU time per task of each process in the c=32 phase.
    const perTask = (cpu) => Object.fromEntries(Object.entries(cpu).map(([k, ms]) => [`${k} µs`, round((ms * 1_000) / N, 0)]));
    const cpuRows = [
      { system: "raw BullMQ", api: "—", ...perTask(raw.cpu) },
      { system: "Switchyard", ...perTask(sy.cpu) },
      { system: "bare Express → Queue.add", ...perTask(bare.cpu) },
    ].map((r) => ({
      system: r.system,
      "load generator µs": r["load generator µs"],
      "api µs": r["api µs"] ?? "—",
      "worker µs": r["worker µs"],
      "redis µs": r["redis µs"],
      "total µs": Object.entries(r)
        .filter(([k, v]) => k.endsWith("µs") && typeof v === "number")
        .reduce((a, [, v]) => a + v, 0),
    }));
    printTable(`CPU per task at c=${CONCURRENCY} (user + system time of each process over the measured phase, 10 ms resolution)`, cpuRows);

    const scale = [];
    const scaleWorkers = (process.env.BENCH_SCALE ?? "1,2,4").split(",").filter(Boolean).map(Number);
    for (const workers of scaleWorkers) {
      const r = workers === 1 ? sy : await switchyard(redis.url, `sybench${workers}`, workers, redis.dir, redis.pid);
      if (workers !== 1) await r.stop();
      const s = summarize(r.latencies);
      scale.push({
        workers,
        "tasks/s": round((s.n / r.wallMs) * 1_000, 0),
        [`c=${CONCURRENCY} p50 ms`]: s.p50,
        "api RSS rest/peak MiB": `${r.memoryAtRest.api}/${r.memoryPeak.api}`,
        "worker RSS rest/peak MiB": `${r.memoryAtRest.worker}/${r.memoryPeak.worker}`,
      });
    }
    printTable("Scale: worker processes (2 cores: more workers compete with the api and Redis)", scale);
    return {
      rows,
      ratios,
      cpu: cpuRows,
      scale,
      config: { tasks: N, serial: SERIAL, concurrency: CONCURRENCY, workerConcurrency: WORKER_CONCURRENCY },
    };
  } finally {
    await redis.stop();
  }
}
