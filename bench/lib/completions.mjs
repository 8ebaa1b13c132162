import { QueueEvents } from "bullmq";
import { Redis } from "ioredis";

/**
 * Observes job completions on one queue through BullMQ's event stream — the same observer for
 * raw BullMQ and Switchyard, so both latencies are measured the same way.
 */
export async function completionWatcher(url, prefix, queue) {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const events = new QueueEvents(queue, { connection, prefix, autorun: true });
  await events.waitUntilReady();
  // Fallback for an event the watcher never saw (the stream is trimmed to ~10,000 events, so a
  // watcher lagging under load can miss one): poll the job hash once a second. Counted as `missed`.
  const reader = new Redis(url, { maxRetriesPerRequest: null });
  let missed = 0;
  const poll = setInterval(async () => {
    const now = Date.now();
    for (const [jobId, since] of pending) {
      if (now - since < 2_000) continue;
      const [finishedOn, failedReason] = await reader.hmget(`${prefix}:${queue}:${jobId}`, "finishedOn", "failedReason");
      if (finishedOn && waiters.has(jobId)) {
        missed++;
        settle(jobId, { ok: !failedReason, at: performance.now(), failedReason });
      }
    }
  }, 1_000);
  const pending = new Map();
  const waiters = new Map();
  const early = new Map();
  const settle = (jobId, outcome) => {
    const waiter = waiters.get(jobId);
    if (waiter) {
      waiters.delete(jobId);
      pending.delete(jobId);
      waiter(outcome);
    } else early.set(jobId, outcome);
  };
  events.on("completed", ({ jobId }) => settle(jobId, { ok: true, at: performance.now() }));
  events.on("failed", ({ jobId, failedReason }) => settle(jobId, { ok: false, at: performance.now(), failedReason }));
  return {
    wait(jobId) {
      const done = early.get(jobId);
      if (done) {
        early.delete(jobId);
        return Promise.resolve(done);
      }
      pending.set(jobId, Date.now());
      return new Promise((resolve) => waiters.set(jobId, resolve));
    },
    get missed() {
      return missed;
    },
    async close() {
      clearInterval(poll);
      reader.disconnect();
      await events.close();
      connection.disconnect();
    },
  };
}

/** Runs `total` operations with `concurrency` closed loops; returns latencies and wall time. */
export async function closedLoop(total, concurrency, operation) {
  let started = 0;
  const latencies = [];
  const errors = [];
  const begin = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < total) {
        started++;
        const t0 = performance.now();
        try {
          const end = await operation();
          latencies.push((end ?? performance.now()) - t0);
        } catch (error) {
          errors.push(error.message);
        }
      }
    }),
  );
  return { latencies, errors, wallMs: performance.now() - begin };
}
