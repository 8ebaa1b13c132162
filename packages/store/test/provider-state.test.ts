import { CircuitBreakerStore, Keys, RateBudget, UsageStore } from "@switchyard/store";
import { afterAll, describe, expect, it } from "vitest";
import { connect, deletePrefix, uniquePrefix } from "../../../test/helpers/redis.js";

const redis = connect();
const prefixes: string[] = [];
const keys = () => {
  const prefix = uniquePrefix("ps");
  prefixes.push(prefix);
  return new Keys(prefix);
};

afterAll(async () => {
  for (const prefix of prefixes) await deletePrefix(redis, prefix);
  redis.disconnect();
});

describe("CircuitBreakerStore (real Redis)", () => {
  const settings = { failureThreshold: 2, windowMs: 60_000, openMs: 300 };

  it("opens at the threshold, lets exactly one probe through after open_ms, and closes on its success", async () => {
    const breaker = new CircuitBreakerStore(redis, keys());
    expect(await breaker.acquire("a", "m", settings)).toEqual({ allowed: true, probe: false });
    expect(await breaker.failure("a", "m", settings)).toBe("closed");
    expect(await breaker.failure("a", "m", settings)).toBe("open");
    const rejected = await breaker.acquire("a", "m", settings);
    expect(rejected.allowed).toBe(false);
    expect(await breaker.available("a", "m")).toBe(false);
    expect(await breaker.available("a", "other")).toBe(true);
    // Another model of the same agent has its own circuit.
    expect((await breaker.acquire("a", "other", settings)).allowed).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await breaker.available("a", "m")).toBe(true);
    expect(await breaker.acquire("a", "m", settings)).toEqual({ allowed: true, probe: true });
    // While the probe is out, everyone else is still rejected.
    expect((await breaker.acquire("a", "m", settings)).allowed).toBe(false);
    await breaker.success("a", "m", settings);
    expect(await breaker.acquire("a", "m", settings)).toEqual({ allowed: true, probe: false });
    expect((await breaker.read("a")).m).toMatchObject({ state: "closed", failures: 0, opened: 1 });
  });

  it("re-opens when the probe fails", async () => {
    const breaker = new CircuitBreakerStore(redis, keys());
    await breaker.failure("a", "m", settings);
    await breaker.failure("a", "m", settings);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect((await breaker.acquire("a", "m", settings)).allowed).toBe(true);
    expect(await breaker.failure("a", "m", settings)).toBe("open");
    expect((await breaker.read("a")).m).toMatchObject({ state: "open", opened: 2 });
  });
});

describe("RateBudget (real Redis)", () => {
  it("admits requests_per_minute requests per window and reports when the window ends", async () => {
    const budget = new RateBudget(redis, keys());
    const now = 1_800_000_000_000 + 15_000; // 15 s into a minute
    const limits = { requestsPerMinute: 2 };
    expect(await budget.take("a", limits, now)).toEqual({ allowed: true });
    expect(await budget.take("a", limits, now)).toEqual({ allowed: true });
    expect(await budget.take("a", limits, now)).toEqual({ allowed: false, kind: "requests", retryAfterMs: 45_000 });
    expect(await budget.take("a", limits, now + 60_000)).toEqual({ allowed: true });
  });

  it("stops admitting once the window's tokens are spent", async () => {
    const budget = new RateBudget(redis, keys());
    const now = 1_800_000_000_000;
    const limits = { tokensPerMinute: 100 };
    expect(await budget.take("a", limits, now)).toEqual({ allowed: true });
    await budget.chargeTokens("a", limits, 120, now);
    expect(await budget.take("a", limits, now)).toMatchObject({ allowed: false, kind: "tokens" });
  });
});

describe("UsageStore (real Redis)", () => {
  it("adds up usage per tenant, per agent and per model", async () => {
    const usage = new UsageStore(redis, keys());
    await usage.record({ tenant: "t1", agent: "gpt", model: "m1", input_tokens: 10, output_tokens: 5, cost_micro_usd: 30 });
    await usage.record({ tenant: "t1", agent: "claude", model: "c1", input_tokens: 1, output_tokens: 2, cost_micro_usd: 0 });
    await usage.record({ tenant: "t2", agent: "gpt", model: "m2", input_tokens: 100, output_tokens: 50, cost_micro_usd: 300 });
    expect(await usage.tenant("t1")).toEqual({
      totals: { requests: 2, input_tokens: 11, output_tokens: 7, cost_usd: 0.00003 },
      agents: {
        gpt: { requests: 1, input_tokens: 10, output_tokens: 5, cost_usd: 0.00003 },
        claude: { requests: 1, input_tokens: 1, output_tokens: 2, cost_usd: 0 },
      },
    });
    const gpt = await usage.agent("gpt");
    expect(gpt.totals).toMatchObject({ requests: 2, input_tokens: 110 });
    expect(Object.keys(gpt.models).sort()).toEqual(["m1", "m2"]);
  });
});
