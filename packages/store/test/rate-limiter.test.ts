import { Keys, RateLimiter } from "@switchyard/store";
import type { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { connect, deletePrefix, uniquePrefix } from "../../../test/helpers/redis.js";

const redis = connect();
const prefix = uniquePrefix("rl");
const keys = new Keys(prefix);

afterAll(async () => {
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

/** The connection, counting the scripts run through it (one round trip each). */
function counting(): { client: Redis; trips: () => number } {
  let trips = 0;
  const client = new Proxy(redis, {
    get(target, property, receiver) {
      if (property === "evalsha" || property === "eval") {
        const fn = Reflect.get(target, property, receiver) as (...args: unknown[]) => unknown;
        return (...args: unknown[]) => {
          trips++;
          return fn.apply(target, args);
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
  return { client, trips: () => trips };
}

describe("RateLimiter (real Redis)", () => {
  it("a slow limit takes one token per request: exactly the burst passes, then Retry-After", async () => {
    const limiter = new RateLimiter(redis, keys);
    const limit = { requests_per_second: 2, burst: 3 };
    const waits = [];
    for (let i = 0; i < 5; i++) waits.push(await limiter.take("slow", limit));
    expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
    expect(waits[3]).toBeGreaterThan(0);
    expect(waits[3]).toBeLessThanOrEqual(500);
  });

  it("a busy key prepays tokens: far fewer round trips than requests, never more admitted than the shared bucket grants", async () => {
    const a = counting();
    const b = counting();
    // Two replicas of the api, one bucket.
    const replicas = [new RateLimiter(a.client, keys), new RateLimiter(b.client, keys)];
    const limit = { requests_per_second: 1_000, burst: 400 };
    let admitted = 0;
    let requests = 0;
    const started = Date.now();
    // 1,000 requests, 10 at a time on each replica.
    await Promise.all(
      Array.from({ length: 20 }, async (_, lane) => {
        for (let i = 0; i < 50; i++) {
          requests++;
          if ((await (replicas[lane % 2] as RateLimiter).take("busy", limit)) === 0) admitted++;
        }
      }),
    );
    const elapsedS = (Date.now() - started) / 1_000;
    expect(requests).toBe(1_000);
    // Every admitted request was paid for from the shared bucket: burst + refill while it ran.
    expect(admitted).toBeLessThanOrEqual(limit.burst + Math.ceil(limit.requests_per_second * elapsedS));
    expect(admitted).toBeGreaterThanOrEqual(limit.burst);
    expect(a.trips() + b.trips()).toBeLessThan(requests / 3);
  });

  it("concurrent requests of an empty key share one refill; over the limit they all get Retry-After", async () => {
    const { client, trips } = counting();
    const limiter = new RateLimiter(client, keys);
    const limit = { requests_per_second: 1, burst: 1 };
    const waits = await Promise.all(Array.from({ length: 10 }, () => limiter.take("shared", limit)));
    expect(waits.filter((w) => w === 0)).toHaveLength(1);
    expect(waits.filter((w) => w > 0)).toHaveLength(9);
    expect(trips()).toBeLessThanOrEqual(10);
  });
});
