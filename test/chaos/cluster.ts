import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type CliProcess, spawnCli } from "../helpers/cli.js";
import { type ApiClient, apiClient } from "../helpers/http.js";
import { uniquePrefix } from "../helpers/redis.js";
import { ADMIN_KEY, EVERYTHING_SERVER } from "../helpers/stack.js";

export interface ClusterConfig {
  agents?: Record<string, unknown>;
  limits?: Record<string, unknown>;
  /** Merged over `{ keys: [admin key] }` (pass `keys` to replace them). */
  auth?: Record<string, unknown>;
  server?: Record<string, unknown>;
}

/** A config file of the scenario's own: unique prefix, an admin key, fast stalled-job recovery. */
export function writeClusterConfig(options: ClusterConfig = {}): { file: string; prefix: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "sy-chaos-"));
  const prefix = uniquePrefix("chaos");
  const file = path.join(dir, "switchyard.json");
  writeFileSync(
    file,
    JSON.stringify({
      server: { host: "127.0.0.1", port: 0, ...options.server },
      redis: { prefix },
      auth: { keys: [{ key: ADMIN_KEY, role: "admin", tenant: "chaos" }], ...options.auth },
      limits: {
        lock_duration_ms: 2_000,
        stalled_interval_ms: 1_000,
        max_stalled_count: 20,
        max_attempts: 10,
        backoff_ms: 100,
        shutdown_timeout_ms: 5_000,
        ...options.limits,
      },
      agents: options.agents ?? {
        mock: { type: "mock", concurrency: 50 },
        everything: { type: "mcp", command: "node", args: [EVERYTHING_SERVER, "stdio"] },
      },
    }),
  );
  return { file, prefix };
}

export async function startApi(
  config: string,
  redisUrl: string,
  env: Record<string, string> = {},
): Promise<{ process: CliProcess; url: string; client: ApiClient }> {
  const proc = spawnCli(["api", "--config", config], { env: { REDIS_URL: redisUrl, ...env } });
  const [, url] = await proc.waitFor(/"url":"(http:\/\/[^"]+)"/);
  return { process: proc, url: url as string, client: apiClient(url as string, ADMIN_KEY) };
}

export async function startWorker(config: string, redisUrl: string, env: Record<string, string> = {}): Promise<CliProcess> {
  const proc = spawnCli(["worker", "--config", config], { env: { REDIS_URL: redisUrl, ...env } });
  await proc.waitFor(/worker ready/);
  return proc;
}

/** Runs `count` operations, `concurrency` at a time. */
export async function inParallel<T>(count: number, concurrency: number, operation: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await operation(i);
      }
    }),
  );
  return results;
}

export async function stop(proc: CliProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill(signal);
  await proc.exited;
}
