import type { SwitchyardConfig } from "@switchyard/config";
import type { Logger } from "@switchyard/observability";
import { createParticipants, reclaimOfflineAgent, sweepParticipants } from "@switchyard/participants";
import { closeRedis, createRedis } from "@switchyard/redis";
import type { Job, Queue } from "bullmq";
import { z } from "zod";

/** The participant part of the coordinator's job catalog. */
export const PARTICIPANT_JOBS = {
  /** Scheduled: find agents whose heartbeat lapsed, fail tasks past their deadline. */
  sweep: "participants-sweep",
  /** Delayed by the grace period: return / re-delegate the work of an agent still offline. */
  reclaim: "participants-reclaim",
} as const;

const ReclaimJob = z.object({ tenant: z.string(), agent_id: z.string() });

export interface ParticipantJobs {
  schedule(queue: Queue): Promise<void>;
  /** Runs the job if it is a participant job; undefined otherwise. */
  handle(job: Job, queue: Queue): Promise<unknown> | undefined;
  close(): Promise<void>;
}

/**
 * Participant timers on the coordinator queue. Heartbeat expiry is found by a scheduled sweep
 * (durable, deduplicated across coordinators, no keyspace notifications needed); the return of
 * an offline agent's work is a delayed job with a deterministic id, so one lapse schedules one
 * reclaim however many coordinators saw it.
 */
export function participantJobs(options: { config: SwitchyardConfig; redisUrl: string; logger: Logger }): ParticipantJobs {
  const { config } = options;
  const log = options.logger.child({ component: "coordinator" });
  const redis = createRedis({ url: options.redisUrl, role: "client", name: "sy-coordinator-participants" });
  redis.on("error", (error) => log.debug({ err: error.message }, "redis connection error"));
  const participants = createParticipants({ redis, prefix: config.redis.prefix, settings: config.participants, logger: options.logger });

  return {
    schedule: async (queue) => {
      await queue.upsertJobScheduler(
        PARTICIPANT_JOBS.sweep,
        { every: config.participants.sweep_every_ms },
        { name: PARTICIPANT_JOBS.sweep, opts: { removeOnComplete: 10, removeOnFail: 50 } },
      );
    },
    handle: (job, queue) => {
      switch (job.name) {
        case PARTICIPANT_JOBS.sweep:
          return (async () => {
            const report = await sweepParticipants(participants);
            for (const { tenant, agent_id } of report.offline)
              await queue.add(
                PARTICIPANT_JOBS.reclaim,
                { tenant, agent_id },
                {
                  delay: config.participants.offline_grace_ms,
                  // One reclaim per lapse: the id names the agent and the sweep that found it
                  // (BullMQ refuses ':' in custom ids).
                  jobId: `participants-reclaim.${tenant}.${agent_id}.${String(job.id ?? Date.now()).replace(/:/g, "_")}`,
                  attempts: 5,
                  backoff: { type: "exponential", delay: 500 },
                  removeOnComplete: 100,
                  removeOnFail: 100,
                },
              );
            return report;
          })();
        case PARTICIPANT_JOBS.reclaim:
          return (async () => {
            const { tenant, agent_id } = ReclaimJob.parse(job.data);
            const returned = await reclaimOfflineAgent(participants, tenant, agent_id);
            if (returned.length > 0) log.info({ tenant, agent_id, returned }, "returned the work of an offline participant");
            return { returned };
          })();
        default:
          return undefined;
      }
    },
    close: () => closeRedis(redis),
  };
}
