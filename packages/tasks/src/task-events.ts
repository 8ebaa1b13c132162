import { TaskProgressEvent } from "@switchyard/core";
import { agentQueueName } from "@switchyard/queue";
import { QueueEvents } from "bullmq";
import type { Redis } from "ioredis";

/** What happened to a task, as relayed from its queue's event stream. */
export type TaskQueueEvent =
  | { type: "queued" | "running" | "removed" }
  | { type: "finished"; outcome: "completed"; result: unknown }
  | { type: "finished"; outcome: "failed" }
  | { type: "progress"; event: TaskProgressEvent };

export type TaskEventListener = (event: TaskQueueEvent) => void;

export interface TaskEventHubOptions {
  prefix: string;
  /** A shared client for plain reads. */
  redis: Redis;
  /** A new dedicated connection (QueueEvents blocks on XREAD). */
  connect: () => Redis;
}

/**
 * One BullMQ `QueueEvents` per agent queue per process, fanned out in memory to every listener of
 * a task (SSE clients, synchronous invocations). Listeners are keyed by task id, so a busy queue
 * costs one map lookup per event.
 */
export class TaskEventHub {
  private readonly queues = new Map<string, Promise<QueueEvents>>();
  private readonly connections: Redis[] = [];
  private readonly listeners = new Map<string, Set<TaskEventListener>>();
  private closed = false;

  constructor(private readonly options: TaskEventHubOptions) {}

  /**
   * Starts relaying `taskId`'s events to `listener`. Resolves once the queue's event stream is
   * being read, so nothing that happens after this resolves is missed. Returns the unsubscribe.
   */
  async subscribe(agent: string, taskId: string, listener: TaskEventListener): Promise<() => void> {
    let set = this.listeners.get(taskId);
    if (!set) {
      set = new Set();
      this.listeners.set(taskId, set);
    }
    set.add(listener);
    const unsubscribe = () => {
      const current = this.listeners.get(taskId);
      current?.delete(listener);
      if (current?.size === 0) this.listeners.delete(taskId);
    };
    try {
      await this.events(agent);
    } catch (error) {
      unsubscribe();
      throw error;
    }
    return unsubscribe;
  }

  /** Number of tasks with at least one listener (for tests and metrics). */
  get size(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = await Promise.allSettled([...this.queues.values()]);
    this.queues.clear();
    this.listeners.clear();
    await Promise.all(all.map((r) => (r.status === "fulfilled" ? r.value.close().catch(() => {}) : undefined)));
    for (const connection of this.connections.splice(0)) connection.disconnect();
  }

  private events(agent: string): Promise<QueueEvents> {
    if (this.closed) return Promise.reject(new Error("event hub closed"));
    let ready = this.queues.get(agent);
    if (!ready) {
      ready = this.start(agent);
      ready.catch(() => this.queues.delete(agent));
      this.queues.set(agent, ready);
    }
    return ready;
  }

  private async start(agent: string): Promise<QueueEvents> {
    const queueName = agentQueueName(agent);
    // Read from the stream's current end (not '$' at the first XREAD, which comes later): events
    // after this point reach every listener registered before it, with no gap.
    const last = await this.options.redis.xrevrange(`${this.options.prefix}:${queueName}:events`, "+", "-", "COUNT", 1);
    const connection = this.options.connect();
    this.connections.push(connection);
    const events = new QueueEvents(queueName, { connection, prefix: this.options.prefix, lastEventId: last[0]?.[0] ?? "0-0" });
    events.on("error", () => {});
    const emit = (jobId: string, event: TaskQueueEvent) => {
      const set = this.listeners.get(jobId);
      if (set) for (const listener of [...set]) listener(event);
    };
    events.on("added", ({ jobId }) => emit(jobId, { type: "queued" }));
    events.on("waiting", ({ jobId }) => emit(jobId, { type: "queued" }));
    events.on("delayed", ({ jobId }) => emit(jobId, { type: "queued" }));
    events.on("active", ({ jobId }) => emit(jobId, { type: "running" }));
    events.on("removed", ({ jobId }) => emit(jobId, { type: "removed" }));
    // BullMQ's completion event carries the job's return value (the task's result).
    events.on("completed", ({ jobId, returnvalue }) => emit(jobId, { type: "finished", outcome: "completed", result: returnvalue }));
    events.on("failed", ({ jobId }) => emit(jobId, { type: "finished", outcome: "failed" }));
    events.on("progress", ({ jobId, data }) => {
      const parsed = TaskProgressEvent.safeParse(data);
      if (parsed.success) emit(jobId, { type: "progress", event: parsed.data });
    });
    await events.waitUntilReady();
    return events;
  }
}
