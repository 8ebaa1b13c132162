import path from "node:path";
import { type ApiService, startApiService } from "@switchyard/api";
import type { ApiKeyConfig } from "@switchyard/config";
import { startCoordinatorService } from "@switchyard/coordinator";
import { SwitchyardMetrics } from "@switchyard/observability";
import { describeRedisUrl, type EmbeddedRedis, startEmbeddedRedis } from "@switchyard/redis";
import { startWorkerService } from "@switchyard/worker";
import { loadOrCreateAdminKey } from "../admin-key.js";
import type { Env } from "../env.js";
import { dataDirOf, type GlobalOptions, loadConfig, makeLogger, redisUrlOf } from "../runtime.js";
import { onShutdownSignal } from "../shutdown.js";

export interface StartOptions extends GlobalOptions {
  port?: number;
  host?: string;
}

/**
 * All-in-one: api + worker + coordinator in one process (the same services the separate
 * commands run), with an embedded redis-server when no Redis is configured.
 */
export async function startCommand(options: StartOptions, env: Env, rawEnv: Readonly<Record<string, string | undefined>>): Promise<void> {
  const loaded = loadConfig(options, env, rawEnv);
  const { config } = loaded;
  const logger = makeLogger(env, "switchyard");
  const dataDir = dataDirOf(loaded);

  let embedded: EmbeddedRedis | undefined;
  let redisUrl = redisUrlOf(loaded, env);
  if (!redisUrl) {
    embedded = await startEmbeddedRedis({
      dir: path.join(dataDir, "redis"),
      ...(env.REDIS_SERVER_BIN ? { bin: env.REDIS_SERVER_BIN } : {}),
      ...(env.PATH ? { searchPath: env.PATH } : {}),
      appendfsync: config.redis.embedded.appendfsync,
      detached: true,
    });
    redisUrl = embedded.url;
    logger.info({ url: redisUrl, dir: path.join(dataDir, "redis") }, "embedded redis-server started");
  }

  let keys: ApiKeyConfig[] = config.auth.keys;
  let generated: { key: string; file: string } | undefined;
  if (keys.length === 0) {
    generated = loadOrCreateAdminKey(dataDir);
    keys = [{ key: generated.key, role: "admin", tenant: "default", name: "generated-admin" }];
  }

  const stops: Array<() => Promise<void>> = [];
  // One registry for the three services: the api's /metrics serves everything.
  const metrics = new SwitchyardMetrics({ defaultLabels: { service: "all-in-one" } });
  try {
    const [worker, coordinator] = await Promise.all([
      startWorkerService({ config, baseDir: loaded.dir, redisUrl, logger, metrics, configFile: loaded.file, env: rawEnv }),
      startCoordinatorService({ config, redisUrl, logger, metrics }),
    ]);
    stops.push(worker.close, coordinator.close);
    const api: ApiService = await startApiService({
      config,
      redisUrl,
      logger,
      keys,
      baseDir: loaded.dir,
      configFile: loaded.file,
      env: rawEnv,
      metrics,
      extraReadiness: async () => {
        const [w, c] = await Promise.all([worker.readiness(), coordinator.readiness()]);
        const { redis: _w, ...workerChecks } = w;
        const { redis: _c, ...coordinatorChecks } = c;
        return { ...workerChecks, coordinator: coordinatorChecks.queue ?? "ok" };
      },
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.host ? { host: options.host } : {}),
    });
    // Stop order: api and worker drain together (new requests refused, running tasks finish),
    // then the coordinator, then Redis last so every write above lands.
    onShutdownSignal(
      logger,
      config.limits.shutdown_timeout_ms + 4_000,
      async () => {
        await Promise.all([api.close(), worker.close()]);
        await coordinator.close();
        await embedded?.stop();
      },
      // Forced exit: Redis runs in its own process group and would outlive us.
      () => embedded?.terminate(),
    );
    printBanner({
      url: api.url,
      redis: embedded
        ? `embedded, ${describeRedisUrl(redisUrl)} (data in ${path.relative(process.cwd(), path.join(dataDir, "redis")) || "."})`
        : describeRedisUrl(redisUrl),
      generated,
    });
  } catch (error) {
    for (const stop of stops) await stop().catch(() => {});
    await embedded?.stop();
    throw error;
  }
}

function printBanner(info: { url: string; redis: string; generated?: { key: string; file: string } | undefined }): void {
  const keyRef = info.generated ? `$(cat ${path.relative(process.cwd(), info.generated.file)})` : "$SWITCHYARD_API_KEY";
  const lines = [
    "",
    "Switchyard is up.",
    `  API        ${info.url}/api/v1`,
    `  Dashboard  ${info.url}/admin/queues`,
    `  Runs       ${info.url}/ui/runs`,
    `  Metrics    ${info.url}/metrics`,
    `  Redis      ${info.redis}`,
    ...(info.generated ? [`  Admin key  ${info.generated.key}  (saved in ${path.relative(process.cwd(), info.generated.file)})`] : []),
    "",
    "Try:",
    `  curl -s -H "Authorization: Bearer ${keyRef}" ${info.url}/api/v1/tools`,
    `  curl -s -H "Authorization: Bearer ${keyRef}" -H 'Content-Type: application/json' \\`,
    `       -d '{"agent_name":"mock","tool_name":"echo","arguments":{"message":"hi"}}' ${info.url}/api/v1/tasks`,
    "",
    "Press Ctrl-C to stop.",
    "",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}
