import { hostname } from "node:os";
import { type AgentClient, createAgentClient } from "@switchyard/agents";
import type { AgentConfig, SwitchyardConfig } from "@switchyard/config";
import type { TaskJobData } from "@switchyard/core";
import {
  type Logger,
  type OpsServer,
  type ReadinessChecks,
  redisCheck,
  SwitchyardMetrics,
  startOpsServer,
} from "@switchyard/observability";
import { TaskChildRunner } from "@switchyard/providers";
import { agentQueueName, TaskQueues, taskBackoffStrategy } from "@switchyard/queue";
import { closeRedis, createRedis, waitForReady } from "@switchyard/redis";
import { CatalogCache, CatalogStore, Keys, TaskIndex } from "@switchyard/store";
import { TaskService, ToolArgumentValidator } from "@switchyard/tasks";
import { Worker } from "bullmq";
import { createTaskProcessor, SHUTDOWN_REASON } from "./processor.js";

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
 * A worker process's job: start an agent client per configured agent, publish each one's tools,
 * and run a BullMQ `Worker` on each agent's queue.
 */
export async function startWorkerService(options: WorkerServiceOptions): Promise<WorkerService> {
  const { config, logger } = options;
  const workerId = options.workerId ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const claimTtlMs = heartbeatMs * 3;
  const keys = new Keys(config.redis.prefix);
  const redis = createRedis({ url: options.redisUrl, role: "blocking", name: `sy-worker-${workerId}` });
  redis.on("error", (error) => logger.debug({ err: error.message }, "redis connection error"));
  const catalog = new CatalogStore(redis, keys);
  // Provider agents keep shared state (breakers, budgets, usage) and run agent_run tool calls as
  // child tasks through the same TaskService the api uses.
  const shared = createRedis({ url: options.redisUrl, role: "client", name: `sy-worker-${workerId}-state` });
  shared.on("error", (error) => logger.debug({ err: error.message }, "redis connection error"));
  const queues = new TaskQueues({ connection: shared, prefix: config.redis.prefix });
  const catalogCache = new CatalogCache(catalog);
  const tasks = new TaskService({
    config,
    queues,
    index: new TaskIndex(shared, keys),
    catalog: catalogCache,
    validator: new ToolArgumentValidator(),
  });
  const connect = () => createRedis({ url: options.redisUrl, role: "blocking", name: `sy-worker-${workerId}-events` });
  const childTasks = new TaskChildRunner({ config, tasks, queues, catalog: catalogCache, connect });
  const clients = new Map<string, AgentClient>();
  const workers = new Map<string, Worker>();
  const log = logger.child({ component: "worker", worker_id: workerId });
  const metrics = options.metrics ?? new SwitchyardMetrics({ defaultLabels: { service: "worker" } });
  let closing = false;

  const publish = async (name: string, announce: boolean) => {
    const client = clients.get(name);
    if (!client || closing) return;
    await catalog.publish(
      { agent: name, agent_type: client.type, tools: client.listTools(), updated_at: Date.now(), worker_id: workerId },
      claimTtlMs,
      announce,
    );
  };

  const processor = createTaskProcessor({ clients, logger: log, metrics });

  const ensureWorker = (name: string, agent: AgentConfig) => {
    if (workers.has(name) || closing) return;
    const worker = new Worker<TaskJobData, unknown, string>(agentQueueName(name), processor, {
      connection: redis,
      prefix: config.redis.prefix,
      concurrency: agent.concurrency,
      ...(agent.rate_limit ? { limiter: { max: agent.rate_limit.max, duration: agent.rate_limit.duration_ms } } : {}),
      lockDuration: config.limits.lock_duration_ms,
      stalledInterval: config.limits.stalled_interval_ms,
      maxStalledCount: config.limits.max_stalled_count,
      settings: { backoffStrategy: taskBackoffStrategy },
      // Finished jobs are trimmed by each job's own removeOnComplete/removeOnFail (retention).
    });
    worker.on("error", (error) => log.warn({ agent: name, err: error.message }, "queue worker error"));
    worker.on("stalled", (jobId) => {
      metrics.tasksStalled.inc({ queue: agentQueueName(name) });
      log.warn({ agent: name, task_id: jobId }, "task stalled: its worker stopped renewing the lock; requeued");
    });
    workers.set(name, worker);
  };

  const startAgent = async (name: string, agent: AgentConfig) => {
    let client: AgentClient;
    try {
      client = createAgentClient(name, agent, {
        baseDir: options.baseDir,
        logger: log,
        redis: shared,
        prefix: config.redis.prefix,
        agents: (other) => clients.get(other),
        childTasks,
        onToolsChanged: () => {
          publish(name, true)
            .then(() => ensureWorker(name, agent))
            .catch((error: Error) => log.warn({ agent: name, err: error.message }, "catalog publish failed"));
        },
      });
    } catch (error) {
      log.error({ agent: name, err: (error as Error).message }, "agent not served");
      return;
    }
    clients.set(name, client);
    try {
      await client.start();
    } catch (error) {
      log.warn({ agent: name, err: (error as Error).message }, "agent failed to start; will retry");
      return;
    }
    await publish(name, true);
    ensureWorker(name, agent);
  };

  await waitForReady(shared).catch(() => {});
  await Promise.all(Object.entries(config.agents).map(([name, agent]) => startAgent(name, agent)));
  await Promise.all([...workers.values()].map((worker) => worker.waitUntilReady()));

  const heartbeat = setInterval(() => {
    const healthy = [...clients.entries()]
      .filter(([name, client]) => workers.has(name) && client.health().status === "ok")
      .map(([name]) => name);
    catalog.heartbeat(healthy, workerId, claimTtlMs).catch((error: Error) => log.debug({ err: error.message }, "heartbeat failed"));
  }, heartbeatMs);
  heartbeat.unref();

  metrics.onCollect(() => collectAgentMetrics(metrics, clients));
  const readiness = async (): Promise<ReadinessChecks> => {
    const checks: ReadinessChecks = { redis: await redisCheck(redis) };
    for (const name of Object.keys(config.agents)) {
      const client = clients.get(name);
      const health = client?.health();
      checks[`agent:${name}`] = !client
        ? "not started (bad config)"
        : health?.status !== "ok"
          ? `${health?.status}: ${health?.reason}`
          : workers.has(name)
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

  log.info({ agents: [...workers.keys()] }, "worker ready");

  return {
    workerId,
    clients,
    metrics,
    ...(ops ? { opsUrl: ops.url } : {}),
    readiness,
    servedAgents: () => [...workers.keys()],
    close: async () => {
      if (closing) return;
      closing = true;
      await ops?.close();
      clearInterval(heartbeat);
      await catalog.withdraw([...workers.keys()], workerId).catch(() => {});
      // Stop taking jobs and let the running ones finish, up to the shutdown budget; whatever is
      // still running then is abandoned: its lock lapses and another worker picks it up.
      const drain = Promise.all([...workers.values()].map((worker) => worker.close()));
      const drained = await Promise.race([
        drain.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), config.limits.shutdown_timeout_ms).unref()),
      ]);
      if (!drained) {
        // Hand the rest back: abort their calls so they fail as retryable now and another worker
        // takes them, instead of waiting for their locks to lapse.
        log.warn({ timeout_ms: config.limits.shutdown_timeout_ms }, "in-flight tasks did not finish in time; handing them back");
        for (const worker of workers.values()) worker.cancelAllJobs(SHUTDOWN_REASON);
        const handedBack = await Promise.race([
          drain.then(() => true),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000).unref()),
        ]);
        if (!handedBack) await Promise.all([...workers.values()].map((worker) => worker.close(true).catch(() => {})));
      }
      await Promise.all([...clients.values()].map((client) => client.close().catch(() => {})));
      await childTasks.close();
      await queues.close();
      await closeRedis(shared);
      await closeRedis(redis);
      log.info("worker stopped");
    },
  };
}

/** Agent health, circuit state and MCP restarts, read from the clients at scrape time. */
function collectAgentMetrics(metrics: SwitchyardMetrics, clients: ReadonlyMap<string, AgentClient>): void {
  for (const [agent, client] of clients) {
    const health = client.health();
    metrics.agentUp.set({ agent }, health.status === "ok" ? 1 : health.status === "degraded" ? 0.5 : 0);
    // Optional capabilities of some agent types, read structurally: MCP clients count restarts;
    // provider clients (issue 4) may expose their circuit breaker.
    const stats = client as unknown as { client?: { restarts?: unknown }; circuitState?: () => unknown };
    if (typeof stats.client?.restarts === "number") metrics.syncTotal(metrics.mcpRestarts, { agent }, stats.client.restarts);
    if (typeof stats.circuitState === "function") {
      const state = stats.circuitState();
      if (state === "closed" || state === "half_open" || state === "open") metrics.setCircuitState(agent, state);
    }
  }
}
