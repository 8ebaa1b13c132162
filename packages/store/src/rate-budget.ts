import type { Redis } from "ioredis";
import type { Keys } from "./keys.js";
import { LuaScript } from "./lua-script.js";

export interface Budget {
  requestsPerMinute?: number | undefined;
  tokensPerMinute?: number | undefined;
}

/** Budget counters outlive their one-minute window by a minute. */
const TTL_MS = 120_000;

export type BudgetDecision = { allowed: true } | { allowed: false; kind: "requests" | "tokens"; retryAfterMs: number };

/**
 * KEYS[1] the window's tokens counter, KEYS[2] its requests counter. ARGV: tokens per minute and
 * requests per minute (-1: no such budget), the counters' TTL (ms).
 * → "tokens" (spent), "requests" (this one is over), or "ok" (a request unit taken).
 */
const TAKE = new LuaScript(
  "budget-take-1",
  `
local tokens, requests = tonumber(ARGV[1]), tonumber(ARGV[2])
if tokens >= 0 and tonumber(redis.call('GET', KEYS[1]) or '0') >= tokens then return 'tokens' end
if requests >= 0 then
  local count = redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  if count > requests then return 'requests' end
end
return 'ok'
`,
  2,
);

/** KEYS[1] the window's tokens counter. ARGV: tokens to add, TTL (ms). */
const CHARGE = new LuaScript(
  "budget-charge-1",
  `
redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`,
  1,
);

/**
 * Per-agent requests- and tokens-per-minute budgets shared by all workers: fixed one-minute
 * windows counted in Redis. A request takes one unit up front; tokens are charged after the
 * call (their count is only known then), and a window whose tokens are spent admits no more
 * requests until it ends.
 */
export class RateBudget {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** One script command: the tokens check, then a request unit (when those budgets are set). */
  async take(agent: string, budget: Budget, now = Date.now()): Promise<BudgetDecision> {
    const window = Math.floor(now / 60_000);
    const retryAfterMs = (window + 1) * 60_000 - now;
    if (budget.tokensPerMinute === undefined && budget.requestsPerMinute === undefined) return { allowed: true };
    const outcome = await TAKE.run(
      this.redis,
      [this.keys.budget(agent, "tokens", window), this.keys.budget(agent, "requests", window)],
      [budget.tokensPerMinute ?? -1, budget.requestsPerMinute ?? -1, TTL_MS],
    );
    if (outcome === "tokens" || outcome === "requests") return { allowed: false, kind: outcome, retryAfterMs };
    return { allowed: true };
  }

  /**
   * Charges a call's tokens to the current window: one script command, issued before this
   * returns (callers may leave it unawaited; it still precedes their next command here).
   */
  chargeTokens(agent: string, budget: Budget, tokens: number, now = Date.now()): Promise<void> {
    if (budget.tokensPerMinute === undefined || tokens <= 0) return Promise.resolve();
    const key = this.keys.budget(agent, "tokens", Math.floor(now / 60_000));
    return CHARGE.run(this.redis, [key], [Math.round(tokens), TTL_MS]).then(() => undefined);
  }
}
