import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startEmbeddedRedis } from "@switchyard/redis";
import { Redis } from "ioredis";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(ROOT, "apps/cli/dist/main.js");
export const ADMIN_KEY = "bench-admin-key-0123456789abcdef";

/** A Redis of the benchmark's own (nothing else writes to it), AOF off like a cache-backed queue. */
export async function benchRedis() {
  const dir = mkdtempSync(path.join(tmpdir(), "sy-bench-redis-"));
  const server = await startEmbeddedRedis({ dir, appendfsync: false, searchPath: process.env.PATH });
  return { ...server, dir };
}

export function writeConfig(dir, { prefix, agents, limits = {} }) {
  const file = path.join(dir, `switchyard-${prefix}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      server: { host: "127.0.0.1", port: 0 },
      redis: { prefix },
      auth: { keys: [{ key: ADMIN_KEY, role: "admin", tenant: "bench" }] },
      limits: { retention_seconds: 3600, ...limits },
      agents,
    }),
  );
  return file;
}

/** Starts a CLI role as its own OS process; resolves once `ready` matches its output. */
export function startProcess(args, env, ready) {
  // BENCH_CPU_PROF=<dir>: CPU profiles of every Switchyard process (`node --cpu-prof`), written on exit.
  const profile = process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...profile, CLI, ...args], {
    env: { PATH: process.env.PATH, LOG_FORMAT: "json", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk.toString();
      const match = output.match(ready);
      if (match) resolve({ child, match, pid: child.pid, stop: () => stopProcess(child) });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${args[0]} exited (${code}) before ready:\n${output.slice(-2000)}`)));
  });
}

/**
 * Starts a bench script (`node <file> ...args`: a floor, a model server) as its own process;
 * resolves once `ready` matches its stdout. With BENCH_CPU_PROF its profile goes to `<dir>/raw`.
 */
export function startScript(file, args, env, ready) {
  const profile = process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}/raw`] : [];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...profile, file, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, ...env },
    });
    let output = "";
    child.stdout.on("data", (d) => {
      output += d.toString();
      const match = output.match(ready);
      if (match) resolve({ child, match });
    });
    child.once("exit", (code) => reject(new Error(`${path.basename(file)} exited ${code}`)));
  });
}

export function stopProcess(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
  });
}

/** Resident memory of a process in MiB (Linux). */
export function rssMiB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return Math.round(kb / 1024);
  } catch {
    return NaN;
  }
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc; 10 ms resolution). */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1_000) / 100;
  } catch {
    return NaN;
  }
}

/** Total command calls and memory from INFO, for per-task cost deltas. */
export async function redisCounters(url) {
  const redis = new Redis(url);
  const stats = await redis.info("commandstats");
  const memory = await redis.info("memory");
  redis.disconnect();
  let calls = 0;
  for (const match of stats.matchAll(/calls=(\d+)/g)) calls += Number(match[1]);
  return { calls, usedMemory: Number(/used_memory:(\d+)/.exec(memory)?.[1] ?? 0) };
}

export async function resetCommandStats(url) {
  const redis = new Redis(url);
  await redis.config("RESETSTAT");
  redis.disconnect();
}

/**
 * Starts Switchyard as separate OS processes (workers, optionally a coordinator, one api) on
 * `redisUrl` with its own key prefix; returns the api url and a stop function.
 */
export async function startSwitchyard(redisUrl, dir, { prefix, agents, workers = 1, coordinator = false, limits }) {
  const config = writeConfig(dir, { prefix, agents, limits });
  const env = { REDIS_URL: redisUrl, LOG_LEVEL: "info" };
  const workerProcs = await Promise.all(
    Array.from({ length: workers }, () => startProcess(["worker", "--config", config], env, /worker ready/)),
  );
  const coord = coordinator ? await startProcess(["coordinator", "--config", config], env, /coordinator ready/) : undefined;
  const api = await startProcess(["api", "--config", config], env, /"url":"(http:\/\/[^"]+)"/);
  return {
    url: api.match[1],
    api,
    workers: workerProcs,
    coordinator: coord,
    stop: () => Promise.all([api.stop(), ...workerProcs.map((w) => w.stop()), coord?.stop()]),
  };
}
