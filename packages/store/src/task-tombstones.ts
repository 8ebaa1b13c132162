import type { Redis } from "ioredis";
import type { Keys } from "./keys.js";

/**
 * Final records of tasks that ended without their BullMQ job (cancelled while queued, failed when
 * their agent was removed): the job is gone, the record keeps GET answering for the retention.
 */
export class TaskTombstones {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async put(tenant: string, taskId: string, view: object, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.keys.taskTombstone(tenant, taskId), JSON.stringify(view), "EX", ttlSeconds);
  }

  async get(tenant: string, taskId: string): Promise<unknown> {
    const json = await this.redis.get(this.keys.taskTombstone(tenant, taskId));
    if (!json) return undefined;
    try {
      return JSON.parse(json);
    } catch {
      return undefined;
    }
  }
}
