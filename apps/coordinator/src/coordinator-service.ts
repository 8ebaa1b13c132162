import type { SwitchyardConfig } from "@switchyard/config";
import type { Logger } from "@switchyard/observability";
import { COORDINATOR_QUEUE } from "@switchyard/queue";
import { closeRedis, createRedis } from "@switchyard/redis";
import { CatalogStore, Keys, TaskIndex } from "@switchyard/store";
import { Queue, Worker } from "bullmq";
import { sweep } from "./housekeeping.js";
import { participantJobs } from "./participant-jobs.js";

export interface CoordinatorServiceOptions {
  config: SwitchyardConfig;
  redisUrl: string;
  logger: Logger;
  sweepEveryMs?: number;
}

export interface CoordinatorService {
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
        default: {
          const handled = participants.handle(job, queue);
          if (handled) return handled;
          log.warn({ job: job.name }, "unknown coordinator job");
          return null;
        }
      }
    },
    { connection: redis, prefix: config.redis.prefix, concurrency: 4 },
  );
  worker.on("error", (error) => log.warn({ err: error.message }, "coordinator worker error"));
  worker.on("failed", (job, error) => log.warn({ job: job?.name, err: error.message }, "coordinator job failed"));
  await worker.waitUntilReady();
  log.info("coordinator ready");

  return {
    close: async () => {
      await worker.close();
      await queue.close();
      await participants.close();
      await closeRedis(redis);
      log.info("coordinator stopped");
    },
  };
}
