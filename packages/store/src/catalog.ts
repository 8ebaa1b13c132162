import { type CatalogEntry, CatalogEntry as CatalogEntrySchema } from "@switchyard/core";
import type { Redis } from "ioredis";
import type { Keys } from "./keys.js";

/**
 * The tool catalog in Redis. Workers hold the live agent clients and publish what each agent
 * offers; the api reads it without holding any connection to an MCP server or provider. An agent
 * is live while at least one worker's claim on it has not expired.
 */
export class CatalogStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** Publishes (or refreshes) an agent's tools and this worker's claim to serve it. */
  async publish(entry: CatalogEntry, ttlMs: number, announce: boolean): Promise<void> {
    const pipeline = this.redis
      .pipeline()
      .hset(this.keys.catalog(), entry.agent, JSON.stringify(entry))
      .zadd(this.keys.catalogWorkers(entry.agent), Date.now() + ttlMs, entry.worker_id);
    if (announce) pipeline.publish(this.keys.catalogChannel(), entry.agent);
    const results = await pipeline.exec();
    for (const [error] of results ?? []) if (error) throw error;
  }

  /** Extends this worker's claims without rewriting the tool lists. */
  async heartbeat(agents: string[], workerId: string, ttlMs: number): Promise<void> {
    if (agents.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const agent of agents) pipeline.zadd(this.keys.catalogWorkers(agent), Date.now() + ttlMs, workerId);
    await pipeline.exec();
  }

  async withdraw(agents: string[], workerId: string): Promise<void> {
    if (agents.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const agent of agents) pipeline.zrem(this.keys.catalogWorkers(agent), workerId);
    pipeline.publish(this.keys.catalogChannel(), agents.join(","));
    await pipeline.exec();
  }

  /** Live agents' catalog entries, with how many workers serve each. */
  async readLive(now = Date.now()): Promise<Map<string, CatalogEntry & { workers: number }>> {
    const raw = await this.redis.hgetall(this.keys.catalog());
    const agents = Object.keys(raw);
    const live = new Map<string, CatalogEntry & { workers: number }>();
    if (agents.length === 0) return live;
    const pipeline = this.redis.pipeline();
    for (const agent of agents) pipeline.zcount(this.keys.catalogWorkers(agent), now, "+inf");
    const counts = (await pipeline.exec()) ?? [];
    agents.forEach((agent, i) => {
      const workers = Number(counts[i]?.[1] ?? 0);
      if (workers === 0) return;
      const parsed = CatalogEntrySchema.safeParse(safeJson(raw[agent]));
      if (parsed.success) live.set(agent, { ...parsed.data, workers });
    });
    return live;
  }

  /** Drops expired worker claims and entries no worker has served for `staleMs`. */
  async prune(staleMs: number, now = Date.now()): Promise<string[]> {
    const raw = await this.redis.hgetall(this.keys.catalog());
    const dropped: string[] = [];
    for (const [agent, json] of Object.entries(raw)) {
      const key = this.keys.catalogWorkers(agent);
      await this.redis.zremrangebyscore(key, "-inf", now);
      const parsed = CatalogEntrySchema.safeParse(safeJson(json));
      const remaining = await this.redis.zcard(key);
      if (remaining === 0 && (!parsed.success || parsed.data.updated_at < now - staleMs)) {
        await this.redis.hdel(this.keys.catalog(), agent);
        dropped.push(agent);
      }
    }
    return dropped;
  }
}

function safeJson(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
