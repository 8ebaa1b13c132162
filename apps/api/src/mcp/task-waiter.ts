import type { TaskProgressEvent } from "@switchyard/core";
import { CancelledError, TaskProgressEvent as TaskProgressEventSchema } from "@switchyard/core";
import { agentQueueName, type TaskQueues } from "@switchyard/queue";
import { closeRedis, createRedis, type Redis } from "@switchyard/redis";
import { QueueEvents } from "bullmq";

export interface TaskWaiterOptions {
  redisUrl: string;
  prefix: string;
  queues: TaskQueues;
}

export interface WaitOptions {
  signal?: AbortSignal | undefined;
  /** Give up waiting (the task keeps running) after this long. */
  timeoutMs: number;
  onProgress?: ((event: TaskProgressEvent) => void) | undefined;
}

/**
 * Waits for tasks to finish by listening to their queue's BullMQ event stream (QueueEvents +
 * `Job.waitUntilFinished`), never by polling the task. One QueueEvents (one blocking Redis
 * connection) per agent queue, opened on first use and shared by every waiter in this process.
 * Retried attempts are not finishes: only the final completion or failure ends the wait.
 */
export class TaskWaiter {
  private readonly events = new Map<string, Promise<{ events: QueueEvents; connection: Redis }>>();

  constructor(private readonly options: TaskWaiterOptions) {}

  /** Resolves once the task is completed or failed (its record then says which). */
  async wait(agent: string, taskId: string, options: WaitOptions): Promise<void> {
    const { events } = await this.eventsFor(agent);
    const job = await this.options.queues.getJob(agent, taskId);
    if (!job) return;
    const onProgress = options.onProgress
      ? ({ jobId, data }: { jobId: string; data: unknown }) => {
          if (jobId !== taskId) return;
          const parsed = TaskProgressEventSchema.safeParse(data);
          if (parsed.success) options.onProgress?.(parsed.data);
        }
      : undefined;
    if (onProgress) events.on("progress", onProgress);
    let onAbort: (() => void) | undefined;
    try {
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(new CancelledError("stopped waiting for the task"));
        if (options.signal?.aborted) onAbort();
        else options.signal?.addEventListener("abort", onAbort, { once: true });
      });
      await Promise.race([job.waitUntilFinished(events, options.timeoutMs).catch((error: Error) => rethrowTimeout(error)), aborted]);
    } finally {
      if (onProgress) events.off("progress", onProgress);
      if (onAbort) options.signal?.removeEventListener("abort", onAbort);
    }
  }

  async close(): Promise<void> {
    const all = await Promise.allSettled(this.events.values());
    this.events.clear();
    for (const result of all) {
      if (result.status !== "fulfilled") continue;
      await result.value.events.close().catch(() => {});
      await closeRedis(result.value.connection);
    }
  }

  private eventsFor(agent: string): Promise<{ events: QueueEvents; connection: Redis }> {
    let entry = this.events.get(agent);
    if (!entry) {
      entry = (async () => {
        const connection = createRedis({ url: this.options.redisUrl, role: "blocking", name: `sy-api-events-${agent}` });
        connection.on("error", () => {});
        // Start reading after the stream's current last entry, not at `$`: `$` means "whatever is
        // last when the first XREAD arrives", and an event written between waitUntilReady and that
        // XREAD (a fast task finishing) would be lost, leaving its waiter hanging.
        const eventsKey = this.options.queues.get(agent).keys.events as string;
        const [last] = (await connection.xrevrange(eventsKey, "+", "-", "COUNT", 1)) as Array<[string, string[]]>;
        const events = new QueueEvents(agentQueueName(agent), {
          connection,
          prefix: this.options.prefix,
          lastEventId: last?.[0] ?? "0-0",
        });
        events.on("error", () => {});
        await events.waitUntilReady();
        return { events, connection };
      })();
      entry.catch(() => this.events.delete(agent));
      this.events.set(agent, entry);
    }
    return entry;
  }
}

/** A failed task also rejects waitUntilFinished: that is a finish, not an error of the wait. */
function rethrowTimeout(error: Error): void {
  if (/timed out before finishing/.test(error.message)) throw error;
}
