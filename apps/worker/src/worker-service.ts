import { hostname } from "node:os";
import type { AgentClient } from "@switchyard/agents";
import type { SwitchyardConfig } from "@switchyard/config";
import {
  type Logger,
  type OpsServer,
  type ReadinessChecks,
  redisCheck,
  SwitchyardMetrics,
  startOpsServer,
} from "@switchyard/observability";
import { TaskChildRunner } from "@switchyard/providers";
import { TaskQueues } from "@switchyard/queue";
import { closeRedis, createRedis, waitForReady } from "@switchyard/redis";
import {
  AgentRegistry,
  BreakerAnnouncements,
  CatalogCache,
  CatalogStore,
  CircuitBreakerStore,
  Keys,
  SharedBreaker,
} from "@switchyard/store";
import { createTaskService } from "@switchyard/tasks";
import { AgentSources } from "./agent-sources.js";
import { AgentSupervisor } from "./agent-supervisor.js";
import { listenForCancellation } from "./cancellation.js";
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
  /** The registry to record into (all-in-one shares one); a new one when absent. */
  metrics?: SwitchyardMetrics;
  /** Serve /metrics, /healthz, /readyz here (`switchyard worker`); none when absent. */
  opsServer?: { host: string; port: number; fallbackToFreePort?: boolean };
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
  metrics: SwitchyardMetrics;
  /** The ops server's URL when one was asked for. */
  opsUrl?: string;
  /** Redis reachable, a queue worker per agent, every agent client healthy (MCP servers connected). */
  readiness(): Promise<ReadinessChecks>;
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
  // Provider agents keep shared state (breakers, budgets, usage) and run agent_run tool calls as
  // child tasks through the same TaskService the api uses.
  const shared = createRedis({ url: options.redisUrl, role: "client", name: `sy-worker-${workerId}-state` });
  // Provider circuit breakers: one view per process, told by this connection when a circuit
  // opens anywhere; while it is down every acquire asks Redis.
  const breakerSubscriber = createRedis({ url: options.redisUrl, role: "subscriber", name: `sy-worker-${workerId}-breakers` });
  for (const connection of [redis, subscriber, shared, breakerSubscriber])
    connection.on("error", (error) => logger.debug({ err: error.message }, "redis connection error"));
  const breakers = new SharedBreaker(new CircuitBreakerStore(shared, keys));
  const announcements = new BreakerAnnouncements({ subscriber: breakerSubscriber, keys, breaker: breakers, logger });
  announcements.start().catch((error: Error) => logger.debug({ err: error.message }, "breaker announcements not started"));
  const catalog = new CatalogStore(redis, keys);
  const queues = new TaskQueues({ connection: shared, prefix: config.redis.prefix });
  const catalogCache = new CatalogCache(catalog);
  const { tasks } = createTaskService({ config, redis: shared, keys, queues, catalog: catalogCache });
  const connect = () => createRedis({ url: options.redisUrl, role: "blocking", name: `sy-worker-${workerId}-events` });
  const childTasks = new TaskChildRunner({ config, tasks, queues, catalog: catalogCache, connect });
  const clients = new Map<string, AgentClient>();
  const log = logger.child({ component: "worker", worker_id: workerId });
  const metrics = options.metrics ?? new SwitchyardMetrics({ defaultLabels: { service: "worker" } });

  const supervisor = new AgentSupervisor({
    config,
    baseDir: options.baseDir,
    workerId,
    connection: redis,
    catalog,
    processor: createTaskProcessor({ clients, logger: log, metrics }),
    clients,
    claimTtlMs: heartbeatMs * 3,
    logger: log,
    metrics,
    agentDeps: {
      redis: shared,
      prefix: config.redis.prefix,
      breakers,
      // The queue workers' connection, which writes task completions: usage written there first
      // is in Redis before anyone can see the task completed.
      accounting: redis,
      agents: (other) => clients.get(other),
      childTasks,
      onProviderUsage: (usage) => metrics.recordProviderUsage(usage),
    },
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
  await waitForReady(shared).catch(() => {});
  await supervisor.reconcile(await sources.start());
  const cancellation = await listenForCancellation({
    redisUrl: options.redisUrl,
    keys,
    workers: { get: (name) => supervisor.worker(name) },
    logger: log,
  });

  const heartbeat = setInterval(() => {
    supervisor.heartbeat().catch((error: Error) => log.debug({ err: error.message }, "heartbeat failed"));
  }, heartbeatMs);
  heartbeat.unref();

  metrics.onCollect(() => collectAgentMetrics(metrics, clients, breakers.store));
  const readiness = async (): Promise<ReadinessChecks> => {
    const checks: ReadinessChecks = { redis: await redisCheck(redis) };
    const served = new Set(supervisor.served());
    for (const name of sources.current().keys()) {
      const client = clients.get(name);
      const health = client?.health();
      checks[`agent:${name}`] = !client
        ? "not started (bad config)"
        : health?.status !== "ok"
          ? `${health?.status}: ${health?.reason}`
          : served.has(name)
            ? "ok"
            : "no queue worker yet";
    }
    return checks;
  };

  let ops: OpsServer | undefined;
  if (options.opsServer) {
    ops = await startOpsServer({ metrics, ready: readiness, ...options.opsServer });
    if (ops.port !== options.opsServer.port && options.opsServer.port !== 0)
      log.warn({ url: ops.url, wanted: options.opsServer.port }, "metrics port in use; serving on a free port instead");
    log.info({ url: ops.url }, "worker metrics listening");
  }

  log.info({ agents: supervisor.served() }, "worker ready");

  let closing: Promise<void> | undefined;
  return {
    workerId,
    clients,
    metrics,
    ...(ops ? { opsUrl: ops.url } : {}),
    readiness,
    servedAgents: () => supervisor.served(),
    close: () => {
      closing ??= (async () => {
        await ops?.close();
        clearInterval(heartbeat);
        await sources.close();
        const drained = await supervisor.close(config.limits.shutdown_timeout_ms);
        if (!drained) log.warn("some in-flight tasks were handed back for retry elsewhere");
        await childTasks.close();
        await cancellation.close();
        await queues.close();
        announcements.close();
        await Promise.all([closeRedis(shared), closeRedis(subscriber), closeRedis(breakerSubscriber), closeRedis(redis)]);
        log.info("worker stopped");
      })();
      return closing;
    },
  };
}

/** Agent health, circuit state and MCP restarts, read from the clients (and Redis) at scrape time. */
async function collectAgentMetrics(
  metrics: SwitchyardMetrics,
  clients: ReadonlyMap<string, AgentClient>,
  breakers: CircuitBreakerStore,
): Promise<void> {
  const order = { closed: 0, half_open: 1, open: 2 } as const;
  for (const [agent, client] of clients) {
    const health = client.health();
    metrics.agentUp.set({ agent }, health.status === "ok" ? 1 : health.status === "degraded" ? 0.5 : 0);
    // MCP clients count their restarts (read structurally: only that agent type has them).
    const stats = client as unknown as { client?: { restarts?: unknown } };
    if (typeof stats.client?.restarts === "number") metrics.syncTotal(metrics.mcpRestarts, { agent }, stats.client.restarts);
    // Provider circuit breakers live in Redis, shared by all workers: report the worst model's state.
    if (client.type === "openai" || client.type === "anthropic") {
      const models = Object.values(await breakers.read(agent).catch(() => ({})));
      let worst: keyof typeof order = "closed";
      for (const view of models) if (order[view.state] > order[worst]) worst = view.state;
      metrics.setCircuitState(agent, worst);
    }
  }
}
