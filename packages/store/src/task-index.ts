import type { Redis } from "ioredis";
import type { Keys } from "./keys.js";

export interface TaskPage {
  ids: string[];
  /** Pass back to get the next (older) page; absent on the last page. */
  next_cursor?: string;
}

/**
 * Per-tenant index of tasks: which agent queue holds each task, and creation order for listing.
 * The task itself is its BullMQ job; this index only finds it.
 */
export class TaskIndex {
  private readonly knownTenants = new Set<string>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** One round trip. */
  async record(tenant: string, taskId: string, agent: string): Promise<void> {
    const pipeline = this.redis
      .pipeline()
      .hset(this.keys.tenantTasks(tenant), taskId, agent)
      .zadd(this.keys.tenantTaskOrder(tenant), 0, taskId);
    if (!this.knownTenants.has(tenant)) pipeline.sadd(this.keys.tenants(), tenant);
    const results = await pipeline.exec();
    for (const [error] of results ?? []) if (error) throw error;
    this.knownTenants.add(tenant);
  }

  async agentOf(tenant: string, taskId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.tenantTasks(tenant), taskId)) ?? undefined;
  }

  /** Newest first. */
  async page(tenant: string, limit: number, cursor?: string): Promise<TaskPage> {
    const start = cursor ? `(${cursor}` : "+";
    const ids = await this.redis.zrange(this.keys.tenantTaskOrder(tenant), start, "-", "BYLEX", "REV", "LIMIT", 0, limit);
    const last = ids.at(-1);
    return ids.length === limit && last ? { ids, next_cursor: last } : { ids };
  }

  async remove(tenant: string, taskIds: string[]): Promise<void> {
    if (taskIds.length === 0) return;
    await this.redis
      .pipeline()
      .hdel(this.keys.tenantTasks(tenant), ...taskIds)
      .zrem(this.keys.tenantTaskOrder(tenant), ...taskIds)
      .exec();
  }

  async tenants(): Promise<string[]> {
    return this.redis.smembers(this.keys.tenants());
  }

  /** Removes index entries of tasks created before `cutoffId` (an id made for the cutoff time). */
  async trimBefore(tenant: string, cutoffId: string, batch = 1_000): Promise<number> {
    let removed = 0;
    for (;;) {
      const ids = await this.redis.zrange(this.keys.tenantTaskOrder(tenant), "-", `(${cutoffId}`, "BYLEX", "LIMIT", 0, batch);
      if (ids.length === 0) return removed;
      await this.remove(tenant, ids);
      removed += ids.length;
    }
  }
}
