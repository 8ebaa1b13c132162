import type { SwitchyardConfig } from "@switchyard/config";
import {
  type Logger,
  type OpsServer,
  type ReadinessChecks,
  redisCheck,
  SwitchyardMetrics,
  startOpsServer,
} from "@switchyard/observability";
import { COORDINATOR_QUEUE } from "@switchyard/queue";
import { closeRedis, createRedis } from "@switchyard/redis";
import { CatalogStore, Keys, TaskIndex } from "@switchyard/store";
import { ContextStore, RunStore, WORKFLOW_JOBS } from "@switchyard/workflow";
import { Queue, Worker } from "bullmq";
import { sweep } from "./housekeeping.js";
import { participantJobs } from "./participant-jobs.js";
import { TxConnection, TxPool } from "./run-transaction.js";
import { WorkflowEngine } from "./workflow-engine.js";

export interface CoordinatorServiceOptions {
  config: SwitchyardConfig;
  redisUrl: string;
  logger: Logger;
  sweepEveryMs?: number;
  /** Coordinator jobs processed at once. */
  concurrency?: number;
  /** The registry to record into (all-in-one shares one); a new one when absent. */
  metrics?: SwitchyardMetrics;
  /** Serve /metrics, /healthz, /readyz here (`switchyard coordinator`); none when absent. */
  opsServer?: { host: string; port: number; fallbackToFreePort?: boolean };
}

export interface CoordinatorService {
  metrics: SwitchyardMetrics;
  opsUrl?: string;
  readiness(): Promise<ReadinessChecks>;
  close(): Promise<void>;
}

/** The coordinator's job catalog: job name → what it does. */
export const COORDINATOR_JOBS = {
  sweep: "sweep",
} as const;

/**
 * Runs the coordinator queue. Timers are BullMQ job schedulers (durable, deduplicated across
 * coordinators), never in-process intervals, so any number of coordinators can run.
 */
export async function startCoordinatorService(options: CoordinatorServiceOptions): Promise<CoordinatorService> {
  const { config } = options;
  const log = options.logger.child({ component: "coordinator" });
  const metrics = options.metrics ?? new SwitchyardMetrics({ defaultLabels: { service: "coordinator" } });
  const redis = createRedis({ url: options.redisUrl, role: "blocking", name: "sy-coordinator" });
  redis.on("error", (error) => log.debug({ err: error.message }, "redis connection error"));
  const keys = new Keys(config.redis.prefix);
  const deps = {
    catalog: new CatalogStore(redis, keys),
    index: new TaskIndex(redis, keys),
    retentionSeconds: config.limits.retention_seconds,
  };
  const queue = new Queue(COORDINATOR_QUEUE, { connection: redis, prefix: config.redis.prefix });
  queue.on("error", () => {});
  // Transition connections: WATCH + MULTI need a connection of their own while in use; a command
  // is never resent on a new socket (it would run without the WATCH).
  const transactions = new TxPool(
    () =>
      new TxConnection(
        redis.duplicate({
          connectionName: "sy-coordinator-tx",
          enableOfflineQueue: false,
          autoResendUnfulfilledCommands: false,
          maxRetriesPerRequest: 1,
        }),
        config.redis.prefix,
      ),
  );
  const engine = new WorkflowEngine({
    config,
    redis,
    store: new RunStore(redis, config.redis.prefix, { retentionSeconds: config.limits.retention_seconds }),
    contexts: new ContextStore(redis, config.redis.prefix, config.limits.retention_seconds),
    transactions,
    queue,
    logger: log,
    metrics,
  });
  await queue.upsertJobScheduler(
    COORDINATOR_JOBS.sweep,
    { every: options.sweepEveryMs ?? config.limits.housekeeping_interval_ms },
    { name: COORDINATOR_JOBS.sweep, opts: { removeOnComplete: 10, removeOnFail: 50 } },
  );
  const participants = participantJobs({ config, redisUrl: options.redisUrl, logger: options.logger });
  await participants.schedule(queue);
  const worker = new Worker(
    COORDINATOR_QUEUE,
    async (job) => {
      switch (job.name) {
        case COORDINATOR_JOBS.sweep: {
          const report = await sweep(deps);
          if (report.dropped_agents.length > 0 || report.trimmed_index_entries > 0) log.info(report, "housekeeping");
          return report;
        }
        case WORKFLOW_JOBS.start:
        case WORKFLOW_JOBS.step:
        case WORKFLOW_JOBS.event:
          return engine.handle(job);
        default: {
          const handled = participants.handle(job, queue);
          if (handled) return handled;
          log.warn({ job: job.name }, "unknown coordinator job");
          return null;
        }
      }
    },
    {
      connection: redis,
      prefix: config.redis.prefix,
      concurrency: options.concurrency ?? 64,
      lockDuration: config.limits.lock_duration_ms,
      stalledInterval: config.limits.stalled_interval_ms,
      // A coordinator job is an event of a run: losing it would strand the run, so a job whose
      // coordinator died is always redelivered (processing is idempotent).
      maxStalledCount: 1_000,
    },
  );
  worker.on("error", (error) => log.warn({ err: error.message }, "coordinator worker error"));
  worker.on("failed", (job, error) => log.warn({ job: job?.name, err: error.message }, "coordinator job failed"));
  await worker.waitUntilReady();
  worker.on("stalled", () => metrics.tasksStalled.inc({ queue: COORDINATOR_QUEUE }));

  const readiness = async (): Promise<ReadinessChecks> => ({
    redis: await redisCheck(redis),
    queue: worker.isRunning() ? "ok" : "coordinator queue worker not running",
  });
  let ops: OpsServer | undefined;
  if (options.opsServer) {
    ops = await startOpsServer({ metrics, ready: readiness, ...options.opsServer });
    if (ops.port !== options.opsServer.port && options.opsServer.port !== 0)
      log.warn({ url: ops.url, wanted: options.opsServer.port }, "metrics port in use; serving on a free port instead");
    log.info({ url: ops.url }, "coordinator metrics listening");
  }
  log.info("coordinator ready");

  return {
    metrics,
    ...(ops ? { opsUrl: ops.url } : {}),
    readiness,
    close: async () => {
      await ops?.close();
      await worker.close();
      await engine.close();
      await transactions.close();
      await queue.close();
      await participants.close();
      await closeRedis(redis);
      log.info("coordinator stopped");
    },
  };
}
