import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type ApiKeyConfig, replaceAgentsInPlace, type SwitchyardConfig, watchConfigFile } from "@switchyard/config";
import { type Logger, type ReadinessChecks, redisCheck, registerQueueMetrics, SwitchyardMetrics } from "@switchyard/observability";
import { COORDINATOR_QUEUE, TaskQueues } from "@switchyard/queue";
import { closeRedis, createRedis, waitForReady } from "@switchyard/redis";
import { CatalogCache, CatalogStore, Keys, TaskIndex } from "@switchyard/store";
import { TaskService, ToolArgumentValidator } from "@switchyard/tasks";
import { Queue } from "bullmq";
import { createApp } from "./app.js";
import { KeyRing } from "./auth.js";
import { OrchestrationToolRegistry } from "./mcp/orchestration-registry.js";
import { coreOrchestrationTools } from "./mcp/orchestration-tools.js";
import { TaskWaiter } from "./mcp/task-waiter.js";
import { createParticipantTooling } from "./participant-tooling.js";
import { joinToolsByName } from "./tool-union.js";

export interface ApiServiceOptions {
  config: SwitchyardConfig;
  redisUrl: string;
  logger: Logger;
  /** Keys from config plus any generated ones (the embedded admin key). */
  keys: readonly ApiKeyConfig[];
  host?: string;
  port?: number;
  /** The config file to watch: its `agents` are applied in place (workers do the same). */
  configFile?: string;
  /** Environment for `${VAR}` substitution when the watched file is re-read. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The registry /metrics serves (all-in-one passes the one worker and coordinator share). */
  metrics?: SwitchyardMetrics;
  /** More /readyz checks (all-in-one adds the co-located worker's and coordinator's). */
  extraReadiness?: () => Promise<ReadinessChecks>;
}

export interface ApiService {
  url: string;
  port: number;
  server: Server;
  metrics: SwitchyardMetrics;
  close(): Promise<void>;
}

export async function startApiService(options: ApiServiceOptions): Promise<ApiService> {
  const { config, logger } = options;
  const log = logger.child({ component: "api" });
  const keys = new KeyRing(options.keys);
  if (keys.size === 0) throw new Error("no API keys configured (auth.keys): every request would be refused");
  const redis = createRedis({ url: options.redisUrl, role: "client", name: "sy-api" });
  const subscriber = createRedis({ url: options.redisUrl, role: "subscriber", name: "sy-api-sub" });
  for (const connection of [redis, subscriber])
    connection.on("error", (error) => log.debug({ err: error.message }, "redis connection error"));
  await Promise.all([waitForReady(redis), waitForReady(subscriber)]);

  const storeKeys = new Keys(config.redis.prefix);
  const catalog = new CatalogCache(new CatalogStore(redis, storeKeys));
  await catalog.subscribe(subscriber, storeKeys.catalogChannel());
  const queues = new TaskQueues({ connection: redis, prefix: config.redis.prefix });
  for (const agent of Object.keys(config.agents)) queues.get(agent);
  const coordinatorQueue = new Queue(COORDINATOR_QUEUE, { connection: redis, prefix: config.redis.prefix, skipWaitingForReady: true });
  coordinatorQueue.on("error", () => {});

  const tasks = new TaskService({
    config,
    queues,
    index: new TaskIndex(redis, storeKeys),
    catalog,
    validator: new ToolArgumentValidator(),
  });
  const configWatch = options.configFile
    ? watchConfigFile(options.configFile, {
        env: options.env ?? {},
        onChange: (next) => {
          replaceAgentsInPlace(config, next.agents);
          catalog.invalidate();
          log.info({ agents: Object.keys(next.agents) }, "config file changed; agents updated");
        },
        onInvalid: (error) => log.warn({ err: error.message }, "config file changed but is invalid; keeping the current agents"),
      })
    : undefined;
  const waiter = new TaskWaiter({ redisUrl: options.redisUrl, prefix: config.redis.prefix, queues });
  // Other features append their MCP tools here.
  const metrics = options.metrics ?? new SwitchyardMetrics({ defaultLabels: { service: "api" } });
  const participants = createParticipantTooling({ config, redis, logger: log, tasks, metrics });
  const orchestration = new OrchestrationToolRegistry().add(
    // Features may share a verb (delegate_subtask): same-named tools become one with a union input.
    ...joinToolsByName([...coreOrchestrationTools({ config, catalog, tasks, waiter }), ...participants.tools]),
  );
  const allQueues = () => [...queues.all(), coordinatorQueue] as Queue[];
  registerQueueMetrics(metrics, allQueues, { cacheMs: config.metrics.queue_cache_ms });
  let closing = false;
  const readiness = async (): Promise<ReadinessChecks> => ({
    redis: await redisCheck(redis),
    queues: closing ? "shutting down" : "ok",
    ...(await options.extraReadiness?.()),
  });
  const { app } = createApp({
    config,
    keys,
    redis,
    catalog,
    tasks,
    logger: log,
    queues: allQueues,
    metrics,
    readiness,
    orchestration,
    waiter,
    participantKeys: participants.keys,
    participantTools: participants.tools,
  });

  const server = app.listen(options.port ?? config.server.port, options.host ?? config.server.host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  server.keepAliveTimeout = 65_000;
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  log.info({ url }, "api listening");

  return {
    url,
    port: address.port,
    server,
    metrics,
    close: async () => {
      closing = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive sockets would hold close() open; in-flight requests still finish.
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      });
      configWatch?.close();
      await waiter.close();
      await queues.close();
      await coordinatorQueue.close();
      await Promise.all([closeRedis(subscriber), closeRedis(redis)]);
      log.info("api stopped");
    },
  };
}
