import type { Redis } from "ioredis";
import type { Keys } from "./keys.js";

export interface Budget {
  requestsPerMinute?: number | undefined;
  tokensPerMinute?: number | undefined;
}

export type BudgetDecision = { allowed: true } | { allowed: false; kind: "requests" | "tokens"; retryAfterMs: number };

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

  async take(agent: string, budget: Budget, now = Date.now()): Promise<BudgetDecision> {
    const window = Math.floor(now / 60_000);
    const retryAfterMs = (window + 1) * 60_000 - now;
    if (budget.tokensPerMinute !== undefined) {
      const used = Number((await this.redis.get(this.keys.budget(agent, "tokens", window))) ?? 0);
      if (used >= budget.tokensPerMinute) return { allowed: false, kind: "tokens", retryAfterMs };
    }
    if (budget.requestsPerMinute !== undefined) {
      const key = this.keys.budget(agent, "requests", window);
      const [[, count]] = (await this.redis.multi().incr(key).pexpire(key, 120_000).exec()) as [[unknown, number]];
      if (count > budget.requestsPerMinute) return { allowed: false, kind: "requests", retryAfterMs };
    }
    return { allowed: true };
  }

  async chargeTokens(agent: string, budget: Budget, tokens: number, now = Date.now()): Promise<void> {
    if (budget.tokensPerMinute === undefined || tokens <= 0) return;
    const key = this.keys.budget(agent, "tokens", Math.floor(now / 60_000));
    await this.redis.multi().incrby(key, Math.round(tokens)).pexpire(key, 120_000).exec();
  }
}
