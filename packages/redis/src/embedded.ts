import { spawn } from "node:child_process";
import { accessSync, constants, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import { findFreePort } from "./free-port.js";

export class RedisServerNotFoundError extends Error {
  constructor(searched: string) {
    super(
      `redis-server not found (${searched}). Install it with \`sudo apt-get install -y redis-server\`, ` +
        "set REDIS_SERVER_BIN to its path, or point Switchyard at a running Redis with REDIS_URL=redis://host:6379.",
    );
    this.name = "RedisServerNotFoundError";
  }
}

export interface EmbeddedRedisOptions {
  /** Folder for the AOF and the pid file. Created if missing. */
  dir: string;
  /** Path of redis-server; searched on PATH when absent. */
  bin?: string;
  /** PATH to search (passed in: only apps read process.env). */
  searchPath?: string;
  port?: number;
  /** `appendonly yes` with this fsync policy; `false` keeps nothing on disk (tests). */
  appendfsync?: "always" | "everysec" | "no" | false;
  /**
   * Start in its own process group so a terminal's Ctrl-C reaches Switchyard only: Switchyard
   * drains its work first and stops Redis last.
   */
  detached?: boolean;
  startTimeoutMs?: number;
}

export interface EmbeddedRedis {
  url: string;
  port: number;
  pid: number;
  /** SIGTERM (Redis fsyncs its AOF and exits), SIGKILL after a grace period. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once (crash tests). */
  kill(): Promise<void>;
  /** SIGTERM without waiting, for a process that is about to exit. */
  terminate(): void;
  readonly exited: Promise<number | null>;
}

export function findRedisServer(bin: string | undefined, searchPath: string | undefined): string {
  if (bin) {
    if (isExecutable(bin)) return bin;
    throw new RedisServerNotFoundError(`REDIS_SERVER_BIN=${bin} is not an executable file`);
  }
  const dirs = (searchPath ?? "").split(path.delimiter).filter(Boolean);
  for (const dir of [...dirs, "/usr/bin", "/usr/local/bin", "/usr/sbin"]) {
    const candidate = path.join(dir, "redis-server");
    if (isExecutable(candidate)) return candidate;
  }
  throw new RedisServerNotFoundError("searched PATH");
}

export async function startEmbeddedRedis(options: EmbeddedRedisOptions): Promise<EmbeddedRedis> {
  const bin = findRedisServer(options.bin, options.searchPath);
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const pidFile = path.join(options.dir, "switchyard-redis.pid");
  await killStale(pidFile);
  const port = options.port ?? (await findFreePort());
  const fsync = options.appendfsync ?? "everysec";
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    options.dir,
    "--save",
    "",
    "--daemonize",
    "no",
    "--protected-mode",
    "yes",
    "--maxmemory-policy",
    "noeviction",
    "--loglevel",
    "warning",
    ...(fsync === false ? ["--appendonly", "no"] : ["--appendonly", "yes", "--appendfsync", fsync]),
  ];
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], detached: options.detached ?? false });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  if (child.pid === undefined) throw new Error(`could not start ${bin}`);
  writeFileSync(pidFile, `${child.pid}\n${bin}\n`);
  const url = `redis://127.0.0.1:${port}`;
  try {
    await waitForPing(url, exited, options.startTimeoutMs ?? 10_000);
  } catch (error) {
    child.kill("SIGKILL");
    rmSync(pidFile, { force: true });
    throw new Error(`redis-server did not start: ${(error as Error).message}\n${output.trim()}`);
  }
  const pid = child.pid;
  const stop = async (graceMs = 5_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    }
    rmSync(pidFile, { force: true });
  };
  const kill = async () => {
    child.kill("SIGKILL");
    await exited;
  };
  const terminate = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    rmSync(pidFile, { force: true });
  };
  return { url, port, pid, stop, kill, terminate, exited };
}

async function waitForPing(url: string, exited: Promise<number | null>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let died = false;
  void exited.then(() => {
    died = true;
  });
  while (Date.now() < deadline) {
    if (died) throw new Error("exited during start-up");
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    probe.on("error", () => {});
    try {
      await probe.connect();
      if ((await probe.ping()) === "PONG") return;
    } catch {
      // not listening yet
    } finally {
      probe.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no PING answer within ${timeoutMs} ms`);
}

/** A redis-server left behind by a Switchyard that was killed: stop it before starting anew. */
async function killStale(pidFile: string): Promise<void> {
  let content: string;
  try {
    content = readFileSync(pidFile, "utf8");
  } catch {
    return;
  }
  const pid = Number(content.split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    if (cmdline.includes("redis-server")) {
      process.kill(pid, "SIGTERM");
      // Wait for it to let go of the AOF before a new server opens the same folder.
      for (let i = 0; i < 200 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 25));
      if (isAlive(pid)) process.kill(pid, "SIGKILL");
    }
  } catch {
    // not running (or not Linux): nothing to clean
  }
  rmSync(pidFile, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
