import { once } from "node:events";
import { BreakerAnnouncements, CircuitBreakerStore, Keys, SharedBreaker, UsageStore } from "@switchyard/store";
import type { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { connect, deletePrefix, uniquePrefix } from "../../../test/helpers/redis.js";

const admin = connect();
const connections: Redis[] = [];
const prefixes: string[] = [];
const settings = { failureThreshold: 2, windowMs: 60_000, openMs: 60_000 };

afterAll(async () => {
  for (const prefix of prefixes) await deletePrefix(admin, prefix);
  for (const connection of connections) connection.disconnect();
  admin.disconnect();
});

function keys(): Keys {
  const prefix = uniquePrefix("sb");
  prefixes.push(prefix);
  return new Keys(prefix);
}

/** One worker process's view: its own state connection, subscriber and breaker. */
async function worker(k: Keys, options: { now?: () => number } = {}) {
  const redis = connect();
  const subscriber = connect();
  connections.push(redis, subscriber);
  // A refresh interval far beyond the test: only announcements can make these views stale.
  const breaker = new SharedBreaker(new CircuitBreakerStore(redis, k), { refreshMs: 600_000, ...options });
  const announcements = new BreakerAnnouncements({ subscriber, keys: k, breaker });
  await announcements.start();
  return { redis, subscriber, breaker, announcements };
}

describe("SharedBreaker: a local view per process, shared state in Redis (two instances, real Redis)", () => {
  it("answers acquire locally while closed, and a circuit opened by A makes B reject at once (on the announcement)", async () => {
    const k = keys();
    const a = await worker(k);
    const b = await worker(k);
    expect(b.breaker.isFollowing).toBe(true);

    expect(await b.breaker.acquire("agent", "m", settings)).toEqual({ allowed: true, probe: false });
    expect(await b.breaker.acquire("agent", "m", settings)).toEqual({ allowed: true, probe: false });
    expect(b.breaker.counts).toEqual({ local: 1, redis: 1 });

    const heard = once(b.announcements, "opened");
    expect(await a.breaker.failure("agent", "m", settings)).toBe("closed");
    expect(await a.breaker.failure("agent", "m", settings)).toBe("open");
    expect((await heard)[0]).toEqual({ agent: "agent", model: "m" });

    // B's view was good for another ten minutes; the announcement dropped it.
    const decision = await b.breaker.acquire("agent", "m", settings);
    expect(decision.allowed).toBe(false);
    expect(b.breaker.counts).toEqual({ local: 1, redis: 2 });
    // Other models keep their own circuits (and views).
    expect((await b.breaker.acquire("agent", "other", settings)).allowed).toBe(true);
    // An open circuit is never answered locally.
    expect((await a.breaker.acquire("agent", "m", settings)).allowed).toBe(false);
    expect((await a.breaker.acquire("agent", "m", settings)).allowed).toBe(false);
    expect(a.breaker.counts.local).toBe(0);
  });

  it("asks Redis on every acquire while its subscriber is down, and answers locally again once resubscribed", async () => {
    const k = keys();
    const a = await worker(k);
    const b = await worker(k);
    await b.breaker.acquire("agent", "m", settings);
    await b.breaker.acquire("agent", "m", settings);
    expect(b.breaker.counts).toEqual({ local: 1, redis: 1 });

    const down = once(b.announcements, "following");
    b.subscriber.disconnect();
    expect((await down)[0]).toBe(false);
    expect(b.breaker.isFollowing).toBe(false);
    await b.breaker.acquire("agent", "m", settings);
    await b.breaker.acquire("agent", "m", settings);
    expect(b.breaker.counts).toEqual({ local: 1, redis: 3 });

    // A opens the circuit; B hears nothing but asks Redis, so it rejects all the same.
    await a.breaker.failure("agent", "m", settings);
    expect(await a.breaker.failure("agent", "m", settings)).toBe("open");
    expect((await b.breaker.acquire("agent", "m", settings)).allowed).toBe(false);

    const up = once(b.announcements, "following");
    await b.subscriber.connect();
    expect((await up)[0]).toBe(true);
    await b.breaker.acquire("agent", "m2", settings);
    await b.breaker.acquire("agent", "m2", settings);
    expect(b.breaker.counts).toEqual({ local: 2, redis: 5 });
    // And the resubscribed channel carries announcements again.
    const heard = once(b.announcements, "opened");
    await a.breaker.failure("agent", "m2", settings);
    await a.breaker.failure("agent", "m2", settings);
    await heard;
    expect((await b.breaker.acquire("agent", "m2", settings)).allowed).toBe(false);
  });

  it("a success resets only when the view shows something to reset; another worker's failures wait for the next refresh", async () => {
    const k = keys();
    let clock = 1_000_000;
    const a = await worker(k);
    const b = await worker(k, { now: () => clock });
    const store = new CircuitBreakerStore(admin, k);
    const wide = { ...settings, failureThreshold: 5 };

    // Nothing to reset: no write.
    await a.breaker.acquire("agent", "m", wide);
    const before = a.breaker.counts.redis;
    await a.breaker.success("agent", "m", wide);
    expect(a.breaker.counts.redis).toBe(before);

    // A's own failure shows in its view, so its next success resets it in Redis.
    expect(await a.breaker.failure("agent", "m", wide)).toBe("closed");
    expect((await store.read("agent")).m?.failures).toBe(1);
    await a.breaker.success("agent", "m", wide);
    expect((await store.read("agent")).m).toMatchObject({ state: "closed", failures: 0 });

    // B's cached view predates A's failure: B's success leaves it (until B refreshes).
    await b.breaker.acquire("agent", "m", wide);
    await a.breaker.failure("agent", "m", wide);
    await b.breaker.success("agent", "m", wide);
    expect((await store.read("agent")).m?.failures).toBe(1);
    clock += 600_000;
    await b.breaker.acquire("agent", "m", wide);
    await b.breaker.success("agent", "m", wide);
    expect((await store.read("agent")).m?.failures).toBe(0);

    // A probe's success always writes (it closes the circuit).
    const writes = b.breaker.counts.redis;
    await b.breaker.success("agent", "m", wide, true);
    expect(b.breaker.counts.redis).toBe(writes + 1);
  });

  it("ignores malformed announcements", async () => {
    const k = keys();
    const b = await worker(k);
    await b.breaker.acquire("agent", "m", settings);
    const received = new Promise<void>((resolve) =>
      b.subscriber.on("message", (_channel: string, message: string) => {
        if (message === "not json") resolve();
      }),
    );
    await admin.publish(k.breakerOpenedChannel(), "not json");
    await received;
    await b.breaker.acquire("agent", "m", settings);
    expect(b.breaker.counts).toEqual({ local: 1, redis: 1 });
  });
});

describe("fire-and-forget scripts keep their connection's order", () => {
  it("usage recorded without awaiting is visible to the next command on the same connection, even on its first use", async () => {
    const k = keys();
    const redis = connect();
    connections.push(redis);
    const usage = new UsageStore(redis, k);
    void usage.record({ tenant: "t", agent: "gpt", model: "m", input_tokens: 3, output_tokens: 4, cost_micro_usd: 5 });
    expect((await usage.tenant("t")).totals).toEqual({ requests: 1, input_tokens: 3, output_tokens: 4, cost_usd: 0.000005 });
    void usage.record({ tenant: "t", agent: "gpt", model: "m", input_tokens: 1, output_tokens: 0, cost_micro_usd: 0 });
    expect((await usage.agent("gpt")).models.m).toEqual({ requests: 2, input_tokens: 4, output_tokens: 4, cost_usd: 0.000005 });
  });
});
