import type { Redis } from "ioredis";
import type { Keys } from "./keys.js";

/**
 * Progress of a long-running task saved between steps (an agent run's transcript so far), so a
 * retry after a crash or a transient failure resumes instead of redoing finished steps. The value
 * is opaque JSON here; the owner validates what it reads back.
 */
export class RunCheckpoints {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async save(taskId: string, state: unknown, ttlMs: number): Promise<void> {
    await this.redis.set(this.keys.runCheckpoint(taskId), JSON.stringify(state), "PX", Math.max(1_000, ttlMs));
  }

  async load(taskId: string): Promise<unknown> {
    const raw = await this.redis.get(this.keys.runCheckpoint(taskId));
    if (raw === null) return undefined;
    try {
      return JSON.parse(raw);
    } catch {
      return undefined;
    }
  }

  async clear(taskId: string): Promise<void> {
    await this.redis.del(this.keys.runCheckpoint(taskId));
  }
}
