import { Gauge } from "prom-client";
import type { SwitchyardMetrics } from "./metrics.js";

/** The part of a BullMQ `Queue` the collector reads (kept structural: no bullmq dependency here). */
export interface QueueLike {
  readonly name: string;
  getJobCounts(...types: QueueState[]): Promise<Record<string, number>>;
  getJobs(types: QueueState[], start?: number, end?: number, asc?: boolean): Promise<Array<{ timestamp: number } | undefined | null>>;
}

export const QUEUE_STATES = ["waiting", "prioritized", "active", "delayed", "waiting-children", "failed", "completed"] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

interface Snapshot {
  at: number;
  depth: Array<{ queue: string; state: string; count: number }>;
  oldest: Array<{ queue: string; seconds: number }>;
}

/**
 * Queue depth per state and the age of the oldest waiting job, per queue. Read from Redis on
 * scrape, at most once per `cacheMs` (several scrapers or replicas stay cheap: one
 * getJobCounts + two one-element range reads per queue), and concurrent scrapes share one read.
 */
export function registerQueueMetrics(metrics: SwitchyardMetrics, queues: () => QueueLike[], options: { cacheMs?: number } = {}): void {
  const cacheMs = options.cacheMs ?? 5_000;
  const registers = [metrics.registry];
  const depth = new Gauge({
    name: "switchyard_queue_jobs",
    help: "Jobs in each queue by state (waiting includes prioritized jobs only under `prioritized`).",
    labelNames: ["queue", "state"],
    registers,
  });
  const oldest = new Gauge({
    name: "switchyard_queue_oldest_job_age_seconds",
    help: "Age of the oldest job waiting to be picked up (0 when none waits).",
    labelNames: ["queue"],
    registers,
  });

  let snapshot: Snapshot | undefined;
  let inflight: Promise<Snapshot> | undefined;
  const read = async (): Promise<Snapshot> => {
    const now = Date.now();
    const result: Snapshot = { at: now, depth: [], oldest: [] };
    await Promise.all(
      queues().map(async (queue) => {
        const counts = await queue.getJobCounts(...QUEUE_STATES);
        for (const state of QUEUE_STATES) result.depth.push({ queue: queue.name, state, count: counts[state] ?? 0 });
        // `wait` is a list served from its tail: ascending order starts at the oldest job.
        // Prioritized jobs are ordered by priority, so their first is a best effort.
        const [waiting, prioritized] = await Promise.all([
          (counts.waiting ?? 0) > 0 ? queue.getJobs(["waiting"], 0, 0, true) : [],
          (counts.prioritized ?? 0) > 0 ? queue.getJobs(["prioritized"], 0, 0, true) : [],
        ]);
        const stamps = [...waiting, ...prioritized].filter((j): j is { timestamp: number } => Boolean(j)).map((j) => j.timestamp);
        result.oldest.push({ queue: queue.name, seconds: stamps.length > 0 ? Math.max(0, (now - Math.min(...stamps)) / 1_000) : 0 });
      }),
    );
    return result;
  };

  metrics.onCollect(async () => {
    if (!snapshot || Date.now() - snapshot.at >= cacheMs) {
      inflight ??= read().finally(() => {
        inflight = undefined;
      });
      snapshot = await inflight;
    }
    depth.reset();
    oldest.reset();
    for (const d of snapshot.depth) depth.set({ queue: d.queue, state: d.state }, d.count);
    for (const o of snapshot.oldest) oldest.set({ queue: o.queue }, o.seconds);
  });
}
