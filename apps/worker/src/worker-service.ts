import { hostname } from "node:os";
import type { AgentClient } from "@switchyard/agents";
import type { SwitchyardConfig } from "@switchyard/config";
import type { Logger } from "@switchyard/observability";
import { closeRedis, createRedis } from "@switchyard/redis";
import { AgentRegistry, CatalogStore, Keys } from "@switchyard/store";
import { AgentSources } from "./agent-sources.js";
import { AgentSupervisor } from "./agent-supervisor.js";
import { createTaskProcessor } from "./processor.js";

export interface WorkerServiceOptions {
  config: SwitchyardConfig;
  /** Folder relative paths in the config resolve against. */
  baseDir: string;
  redisUrl: string;
  logger: Logger;
  workerId?: string;
  /** How often this worker re-asserts that it serves its agents. */
  heartbeatMs?: number;
  /** The config file to watch: edits to its `agents` are applied without a restart. */
  configFile?: string;
  /** Environment for `${VAR}` substitution when the watched file is re-read. */
  env?: Readonly<Record<string, string | undefined>>;
  /** How long a run-time agent change waits for new agents to connect before the next change may apply. */
  agentStartWaitMs?: number;
}

export interface WorkerService {
  readonly workerId: string;
  /** Agents this worker serves right now. */
  servedAgents(): string[];
  clients: ReadonlyMap<string, AgentClient>;
  /** Stops taking jobs, drains in-flight ones (bounded), stops agent clients and children. */
  close(): Promise<void>;
}

/**
 * A worker process's job: serve every agent of the desired set (config file ∪ agents registered
 * in Redis), each with an agent client, a published catalog entry and a BullMQ `Worker` on its
 * queue, and follow that set as it changes at run time (see AgentSupervisor, AgentSources).
 */
export async function startWorkerService(options: WorkerServiceOptions): Promise<WorkerService> {
  const { config, logger } = options;
  const workerId = options.workerId ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const keys = new Keys(config.redis.prefix);
  const redis = createRedis({ url: options.redisUrl, role: "blocking", name: `sy-worker-${workerId}` });
  const subscriber = createRedis({ url: options.redisUrl, role: "subscriber", name: `sy-worker-sub-${workerId}` });
  for (const connection of [redis, subscriber])
    connection.on("error", (error) => logger.debug({ err: error.message }, "redis connection error"));
  const clients = new Map<string, AgentClient>();
  const log = logger.child({ component: "worker", worker_id: workerId });

  const supervisor = new AgentSupervisor({
    config,
    baseDir: options.baseDir,
    workerId,
    connection: redis,
    catalog: new CatalogStore(redis, keys),
    processor: createTaskProcessor({ clients, logger: log }),
    clients,
    claimTtlMs: heartbeatMs * 3,
    logger: log,
  });
  const sources = new AgentSources({
    initial: config.agents,
    configFile: options.configFile,
    env: options.env,
    registry: new AgentRegistry(redis, keys),
    subscriber,
    logger: log,
    onChange: (agents) => {
      supervisor
        .reconcile(agents, options.agentStartWaitMs ?? 5_000)
        .catch((error: Error) => log.error({ err: error.message }, "applying agent changes failed"));
    },
  });
  await supervisor.reconcile(await sources.start());

  const heartbeat = setInterval(() => {
    supervisor.heartbeat().catch((error: Error) => log.debug({ err: error.message }, "heartbeat failed"));
  }, heartbeatMs);
  heartbeat.unref();

  log.info({ agents: supervisor.served() }, "worker ready");

  let closing: Promise<void> | undefined;
  return {
    workerId,
    clients,
    servedAgents: () => supervisor.served(),
    close: () => {
      closing ??= (async () => {
        clearInterval(heartbeat);
        await sources.close();
        const drained = await supervisor.close(config.limits.shutdown_timeout_ms);
        if (!drained) log.warn("some in-flight tasks were handed back for retry elsewhere");
        await Promise.all([closeRedis(subscriber), closeRedis(redis)]);
        log.info("worker stopped");
      })();
      return closing;
    },
  };
}
