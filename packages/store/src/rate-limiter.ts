import type { Redis } from "ioredis";
import type { Keys } from "./keys.js";
import { LuaScript } from "./lua-script.js";

/**
 * token-bucket-2: takes up to ARGV[3] tokens (at least one) from a bucket refilled at ARGV[1]
 * tokens/s up to ARGV[2], using the Redis server's clock so every api replica agrees.
 *   KEYS[1] the bucket (hash: tokens, ts)
 * Returns {granted, waitMs}: granted ≥ 1 and waitMs 0, or granted 0 and the milliseconds until a
 * token is available.
 */
const TOKEN_BUCKET = new LuaScript(
  "token-bucket-2",
  `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call("HMGET", KEYS[1], "tokens", "ts")
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local granted = 0
local wait = 0
if tokens >= 1 then
  granted = math.min(want, math.floor(tokens))
  tokens = tokens - granted
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call("HSET", KEYS[1], "tokens", tostring(tokens), "ts", tostring(now))
redis.call("PEXPIRE", KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {granted, wait}
`,
  1,
);

export interface RateLimit {
  requests_per_second: number;
  burst: number;
}

export interface RateLimiterOptions {
  /**
   * How much of a busy key's traffic one round trip may prepay, in milliseconds of its observed
   * request rate (never more than that long at the key's limit, nor its burst).
   */
  leaseMs?: number;
  /** Keys tracked in memory before the table is dropped and started over. */
  maxKeys?: number;
}

/** What this process holds for one key: prepaid tokens and its recent request rate. */
interface Lease {
  tokens: number;
  /** Requests seen in the current and the previous 100 ms window. */
  windowStart: number;
  count: number;
  previous: number;
  refill?: Promise<number> | undefined;
}

const RATE_WINDOW_MS = 100;

/**
 * Per-API-key request rate limits, held in Redis so they apply across api replicas.
 *
 * A busy key takes its tokens from the shared bucket a few at a time (a lease sized to about
 * `leaseMs` of its own observed rate) and spends them locally, so a key making a thousand
 * requests a second costs Redis a round trip every twenty or so instead of one each. Every
 * request is still paid for from the shared bucket before it proceeds: replicas together never
 * admit more than the bucket grants; a replica can hold at most `leaseMs` worth of the limit
 * unspent. A key with a slow limit (under one token per lease) takes one token per request, as
 * before.
 */
export class RateLimiter {
  private readonly leases = new Map<string, Lease>();
  private readonly leaseMs: number;
  private readonly maxKeys: number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    options: RateLimiterOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? 20;
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  /** 0 when the request may proceed, else how long (ms) until it could. */
  async take(keyId: string, limit: RateLimit): Promise<number> {
    const lease = this.leaseOf(keyId);
    const now = Date.now();
    if (now - lease.windowStart >= RATE_WINDOW_MS) {
      lease.previous = now - lease.windowStart < 2 * RATE_WINDOW_MS ? lease.count : 0;
      lease.windowStart = now;
      lease.count = 0;
    }
    lease.count++;
    for (;;) {
      if (lease.tokens >= 1) {
        lease.tokens--;
        return 0;
      }
      if (lease.refill) {
        // Another request of this key is fetching tokens: share its outcome.
        const waitMs = await lease.refill;
        if (waitMs > 0) return waitMs;
        continue;
      }
      const refill = this.fetch(keyId, limit, lease);
      lease.refill = refill;
      try {
        const waitMs = await refill;
        if (waitMs > 0) return waitMs;
      } finally {
        lease.refill = undefined;
      }
    }
  }

  private async fetch(keyId: string, limit: RateLimit, lease: Lease): Promise<number> {
    // Requests per second: the last full window's, or the current one's when it is already busier.
    const elapsed = Math.max(10, Date.now() - lease.windowStart);
    const observedPerSecond = Math.max((lease.previous * 1_000) / RATE_WINDOW_MS, (lease.count * 1_000) / elapsed);
    const want = Math.max(
      1,
      Math.min(
        Math.ceil((observedPerSecond * this.leaseMs) / 1_000),
        Math.floor((limit.requests_per_second * this.leaseMs) / 1_000),
        Math.floor(limit.burst),
      ),
    );
    const [granted, waitMs] = (await TOKEN_BUCKET.run(
      this.redis,
      [this.keys.rateLimit(keyId)],
      [limit.requests_per_second, limit.burst, want],
    )) as [number, number];
    lease.tokens += Number(granted);
    return Number(granted) > 0 ? 0 : Math.max(1, Number(waitMs));
  }

  private leaseOf(keyId: string): Lease {
    let lease = this.leases.get(keyId);
    if (!lease) {
      if (this.leases.size >= this.maxKeys) this.leases.clear();
      lease = { tokens: 0, windowStart: Date.now(), count: 0, previous: 0 };
      this.leases.set(keyId, lease);
    }
    return lease;
  }
}
