import type { Redis } from "ioredis";
import type { Keys } from "./keys.js";
import { LuaScript } from "./lua-script.js";

/** Tokens and cost of one provider call. Cost is kept in micro-USD so HINCRBY stays integral. */
export interface UsageRecord {
  tenant: string;
  agent: string;
  model: string;
  input_tokens: number;
  output_tokens: number;
  cost_micro_usd: number;
}

export interface UsageTotals {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
}

/**
 * KEYS[1] the tenant's usage hash, KEYS[2] the agent's. ARGV: agent, model, then requests,
 * input_tokens, output_tokens, cost_micro_usd (integers; zeros are skipped).
 */
const RECORD = new LuaScript(
  "usage-record-1",
  `
local fields = {'requests', 'input_tokens', 'output_tokens', 'cost_micro_usd'}
for i, field in ipairs(fields) do
  local n = tonumber(ARGV[i + 2])
  if n ~= 0 then
    redis.call('HINCRBY', KEYS[1], field, n)
    redis.call('HINCRBY', KEYS[1], ARGV[1] .. '|' .. field, n)
    redis.call('HINCRBY', KEYS[2], field, n)
    redis.call('HINCRBY', KEYS[2], ARGV[2] .. '|' .. field, n)
  end
end
return 1
`,
  2,
);

/**
 * LLM usage counters in Redis: per tenant (totals and per agent) and per agent across tenants
 * (totals and per model). Written with HINCRBY, so concurrent workers never lose an update.
 */
export class UsageStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /**
   * Adds one call's usage: one script command, issued before this returns (so a caller may leave
   * the promise unawaited and still know the write precedes its next command on this connection).
   */
  record(usage: UsageRecord): Promise<void> {
    return RECORD.run(
      this.redis,
      [this.keys.tenantUsage(usage.tenant), this.keys.agentUsage(usage.agent)],
      [usage.agent, usage.model, 1, Math.round(usage.input_tokens), Math.round(usage.output_tokens), Math.round(usage.cost_micro_usd)],
    ).then(() => undefined);
  }

  /** A tenant's totals and its usage per agent. */
  async tenant(tenant: string): Promise<{ totals: UsageTotals; agents: Record<string, UsageTotals> }> {
    return split(await this.redis.hgetall(this.keys.tenantUsage(tenant)), "agents");
  }

  /** An agent's totals across tenants and its usage per model. */
  async agent(agent: string): Promise<{ totals: UsageTotals; models: Record<string, UsageTotals> }> {
    return split(await this.redis.hgetall(this.keys.agentUsage(agent)), "models");
  }
}

function empty(): UsageTotals {
  return { requests: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0 };
}

function add(target: UsageTotals, field: string, value: number): void {
  if (field === "cost_micro_usd") target.cost_usd = value / 1_000_000;
  else if (field === "requests" || field === "input_tokens" || field === "output_tokens") target[field] = value;
}

function split<K extends string>(raw: Record<string, string>, by: K): { totals: UsageTotals } & Record<K, Record<string, UsageTotals>> {
  const totals = empty();
  const groups: Record<string, UsageTotals> = {};
  for (const [field, value] of Object.entries(raw)) {
    const cut = field.lastIndexOf("|");
    if (cut < 0) add(totals, field, Number(value));
    else {
      const group = groups[field.slice(0, cut)] ?? empty();
      groups[field.slice(0, cut)] = group;
      add(group, field.slice(cut + 1), Number(value));
    }
  }
  return { totals, [by]: groups } as { totals: UsageTotals } & Record<K, Record<string, UsageTotals>>;
}
