import { hostname } from "node:os";
import { type AgentClient, createAgentClient } from "@switchyard/agents";
import type { AgentConfig, SwitchyardConfig } from "@switchyard/config";
import type { TaskJobData } from "@switchyard/core";
import type { Logger } from "@switchyard/observability";
import { agentQueueName, taskBackoffStrategy } from "@switchyard/queue";
import { closeRedis, createRedis } from "@switchyard/redis";
import { CatalogStore, Keys } from "@switchyard/store";
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
  const clients = new Map<string, AgentClient>();
  const workers = new Map<string, Worker>();
  const log = logger.child({ component: "worker", worker_id: workerId });
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

  const processor = createTaskProcessor({ clients, logger: log });

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
    worker.on("stalled", (jobId) =>
      log.warn({ agent: name, task_id: jobId }, "task stalled: its worker stopped renewing the lock; requeued"),
    );
    workers.set(name, worker);
  };

  const startAgent = async (name: string, agent: AgentConfig) => {
    let client: AgentClient;
    try {
      client = createAgentClient(name, agent, {
        baseDir: options.baseDir,
        logger: log,
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

  await Promise.all(Object.entries(config.agents).map(([name, agent]) => startAgent(name, agent)));
  await Promise.all([...workers.values()].map((worker) => worker.waitUntilReady()));

  const heartbeat = setInterval(() => {
    const healthy = [...clients.entries()]
      .filter(([name, client]) => workers.has(name) && client.health().status === "ok")
      .map(([name]) => name);
    catalog.heartbeat(healthy, workerId, claimTtlMs).catch((error: Error) => log.debug({ err: error.message }, "heartbeat failed"));
  }, heartbeatMs);
  heartbeat.unref();

  log.info({ agents: [...workers.keys()] }, "worker ready");

  return {
    workerId,
    clients,
    servedAgents: () => [...workers.keys()],
    close: async () => {
      if (closing) return;
      closing = true;
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
      await closeRedis(redis);
      log.info("worker stopped");
    },
  };
}
