import type { Redis } from "ioredis";
import type { Keys } from "./keys.js";

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

const FIELDS = ["requests", "input_tokens", "output_tokens", "cost_micro_usd"] as const;

/**
 * LLM usage counters in Redis: per tenant (totals and per agent) and per agent across tenants
 * (totals and per model). Written with HINCRBY, so concurrent workers never lose an update.
 */
export class UsageStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async record(usage: UsageRecord): Promise<void> {
    const values = {
      requests: 1,
      input_tokens: usage.input_tokens,
      output_tokens: usage.output_tokens,
      cost_micro_usd: usage.cost_micro_usd,
    };
    const tenantKey = this.keys.tenantUsage(usage.tenant);
    const agentKey = this.keys.agentUsage(usage.agent);
    const multi = this.redis.multi();
    for (const field of FIELDS) {
      const n = Math.round(values[field]);
      if (n === 0) continue;
      multi.hincrby(tenantKey, field, n);
      multi.hincrby(tenantKey, `${usage.agent}|${field}`, n);
      multi.hincrby(agentKey, field, n);
      multi.hincrby(agentKey, `${usage.model}|${field}`, n);
    }
    await multi.exec();
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
