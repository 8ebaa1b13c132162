import type { Redis } from "ioredis";
import type { Keys } from "./keys.js";
import { LuaScript } from "./lua-script.js";

/**
 * token-bucket-1: takes one token from a bucket refilled at ARGV[1] tokens/s up to ARGV[2],
 * using the Redis server's clock so every api replica agrees.
 *   KEYS[1] the bucket (hash: tokens, ts)
 * Returns 0 when a token was taken, else the milliseconds until one is available.
 */
const TOKEN_BUCKET = new LuaScript(
  "token-bucket-1",
  `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call("HMGET", KEYS[1], "tokens", "ts")
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call("HSET", KEYS[1], "tokens", tostring(tokens), "ts", tostring(now))
redis.call("PEXPIRE", KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
`,
  1,
);

export interface RateLimit {
  requests_per_second: number;
  burst: number;
}

/** Per-API-key request rate limits, held in Redis so they apply across api replicas. */
export class RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** 0 when the request may proceed, else how long (ms) until it could. */
  async take(keyId: string, limit: RateLimit): Promise<number> {
    return Number(await TOKEN_BUCKET.run(this.redis, [this.keys.rateLimit(keyId)], [limit.requests_per_second, limit.burst]));
  }
}
