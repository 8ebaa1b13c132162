import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { inject } from "vitest";

export function redisUrl(): string {
  return inject("redisUrl");
}

/** A key prefix of this test's own: tests share one Redis and never see each other's keys. */
export function uniquePrefix(label = "t"): string {
  return `${label}-${randomBytes(4).toString("hex")}`;
}

export function connect(url = redisUrl()): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1 });
}

/** Deletes every key under a prefix (test clean-up). */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1_000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== "0");
}

/** A connection BullMQ may block on (QueueEvents, Worker). */
export function connectBlocking(url = redisUrl()): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}
