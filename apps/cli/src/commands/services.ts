import { startApiService } from "@switchyard/api";
import { startCoordinatorService } from "@switchyard/coordinator";
import { startWorkerService } from "@switchyard/worker";
import type { Env } from "../env.js";
import { type GlobalOptions, loadConfig, makeLogger, requireRedisUrl, UsageError } from "../runtime.js";
import { onShutdownSignal } from "../shutdown.js";

type RawEnv = Readonly<Record<string, string | undefined>>;

/** `switchyard api`: one stateless api replica. */
export async function apiCommand(options: GlobalOptions & { port?: number; host?: string }, env: Env, raw: RawEnv): Promise<void> {
  const loaded = loadConfig(options, env, raw);
  const redisUrl = requireRedisUrl(loaded, env, "api");
  if (loaded.config.auth.keys.length === 0)
    throw new UsageError("`switchyard api` needs auth.keys in the config (only `switchyard start` generates a key)");
  const logger = makeLogger(env, "api");
  const api = await startApiService({
    config: loaded.config,
    redisUrl,
    logger,
    keys: loaded.config.auth.keys,
    baseDir: loaded.dir,
    configFile: loaded.file,
    env: raw,
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.host ? { host: options.host } : {}),
  });
  onShutdownSignal(logger, loaded.config.limits.shutdown_timeout_ms + 4_000, api.close);
}

/** `switchyard worker`: executes tasks; run as many as the load needs. */
export async function workerCommand(options: GlobalOptions & { metricsPort?: number }, env: Env, raw: RawEnv): Promise<void> {
  const loaded = loadConfig(options, env, raw);
  const redisUrl = requireRedisUrl(loaded, env, "worker");
  const logger = makeLogger(env, "worker");
  const worker = await startWorkerService({
    config: loaded.config,
    baseDir: loaded.dir,
    redisUrl,
    logger,
    configFile: loaded.file,
    env: raw,
    // An explicit --metrics-port must be honoured; the config default may move if it is taken.
    opsServer: {
      host: loaded.config.metrics.host,
      port: options.metricsPort ?? loaded.config.metrics.port,
      fallbackToFreePort: options.metricsPort === undefined,
    },
  });
  onShutdownSignal(logger, loaded.config.limits.shutdown_timeout_ms + 4_000, worker.close);
}

/** `switchyard coordinator`: housekeeping and workflow advancement. */
export async function coordinatorCommand(options: GlobalOptions & { metricsPort?: number }, env: Env, raw: RawEnv): Promise<void> {
  const loaded = loadConfig(options, env, raw);
  const redisUrl = requireRedisUrl(loaded, env, "coordinator");
  const logger = makeLogger(env, "coordinator");
  const coordinator = await startCoordinatorService({
    config: loaded.config,
    redisUrl,
    logger,
    // An explicit --metrics-port must be honoured; the config default may move if it is taken.
    opsServer: {
      host: loaded.config.metrics.host,
      port: options.metricsPort ?? loaded.config.metrics.port,
      fallbackToFreePort: options.metricsPort === undefined,
    },
  });
  onShutdownSignal(logger, loaded.config.limits.shutdown_timeout_ms + 4_000, coordinator.close);
}
