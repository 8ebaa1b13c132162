import type { Redis } from "ioredis";
import type { Keys } from "./keys.js";
import { LuaScript } from "./lua-script.js";

export interface BreakerSettings {
  /** Failures within `windowMs` that open the circuit. */
  failureThreshold: number;
  windowMs: number;
  /** How long an open circuit rejects calls before a single probe may try. */
  openMs: number;
}

export type BreakerState = "closed" | "open" | "half_open";

/** One model's circuit as stored in Redis and shown by the API. */
export interface BreakerView {
  state: BreakerState;
  failures: number;
  /** Epoch ms until which an open circuit rejects calls (0 when closed). */
  open_until: number;
  /** How often the circuit has opened since the key was created. */
  opened: number;
}

export type BreakerDecision = { allowed: true; probe: boolean } | { allowed: false; retryAfterMs: number };

/**
 * KEYS[1] the agent's breaker hash. ARGV: op (acquire|success|failure), model, now (ms),
 * threshold, window_ms, open_ms, ttl_ms, agent, channel. Fields per model: `<model>|state`,
 * `|failures`, `|window_start`, `|open_until`, `|probe_until`, `|opened`.
 * acquire → {"closed", failures} | {"probe"} | {"open", until}; failure → {state, failures};
 * success → {"closed", 0}. Opening a circuit PUBLISHes a BreakerOpened message on the channel,
 * so workers holding a cached "closed" view drop it at once.
 */
const SCRIPT = new LuaScript(
  "circuit-breaker-2",
  `
local key, op, m = KEYS[1], ARGV[1], ARGV[2] .. '|'
local now, threshold, window, openMs, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local state = redis.call('HGET', key, m .. 'state') or 'closed'
local function open()
  redis.call('HSET', key, m .. 'state', 'open', m .. 'open_until', now + openMs, m .. 'failures', 0, m .. 'probe_until', 0)
  redis.call('HINCRBY', key, m .. 'opened', 1)
  redis.call('PUBLISH', ARGV[9], cjson.encode({agent = ARGV[8], model = ARGV[2]}))
end
local result
if op == 'acquire' then
  if state == 'closed' then
    result = {'closed', tonumber(redis.call('HGET', key, m .. 'failures') or '0')}
  else
    local gate = tonumber(redis.call('HGET', key, m .. (state == 'open' and 'open_until' or 'probe_until')) or '0')
    if now < gate then
      result = {'open', tostring(gate)}
    else
      -- One caller at a time probes a tripped circuit; the probe's outcome closes or re-opens it.
      redis.call('HSET', key, m .. 'state', 'half_open', m .. 'probe_until', now + openMs)
      result = {'probe'}
    end
  end
elseif op == 'success' then
  redis.call('HSET', key, m .. 'state', 'closed', m .. 'failures', 0, m .. 'open_until', 0, m .. 'probe_until', 0)
  result = {'closed', 0}
else
  if state == 'half_open' then
    open()
    result = {'open', 0}
  else
    local start = tonumber(redis.call('HGET', key, m .. 'window_start') or '0')
    if now - start > window then
      redis.call('HSET', key, m .. 'window_start', now, m .. 'failures', 0)
    end
    local failures = redis.call('HINCRBY', key, m .. 'failures', 1)
    if failures >= threshold then
      open()
      result = {'open', 0}
    else
      result = {state, failures}
    end
  end
end
redis.call('PEXPIRE', key, ttl)
return result
`,
  1,
);

/** What acquire saw in Redis: the decision, and the failures counted so far when closed. */
export interface BreakerAcquired {
  decision: BreakerDecision;
  failures: number;
}

/** A circuit's state after a recorded outcome, and its failure count (0 unless closed). */
export interface BreakerOutcome {
  state: BreakerState;
  failures: number;
}

/**
 * A circuit breaker per agent and model whose state lives in Redis, so every worker sees the
 * same circuit: N failures in a window open it on all workers at once; after `openMs` one probe
 * call is let through and its outcome closes or re-opens the circuit.
 */
export class CircuitBreakerStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async acquire(agent: string, model: string, settings: BreakerSettings): Promise<BreakerDecision> {
    return (await this.acquireState(agent, model, settings)).decision;
  }

  /** acquire, also reporting the failures counted so far (for a process-local view). */
  async acquireState(agent: string, model: string, settings: BreakerSettings): Promise<BreakerAcquired> {
    const [outcome, value] = await this.run("acquire", agent, model, settings);
    if (outcome === "open") return { decision: { allowed: false, retryAfterMs: Math.max(0, Number(value) - Date.now()) }, failures: 0 };
    return { decision: { allowed: true, probe: outcome === "probe" }, failures: Number(value ?? 0) };
  }

  async success(agent: string, model: string, settings: BreakerSettings): Promise<void> {
    await this.run("success", agent, model, settings);
  }

  /** Records a failure; resolves with the state afterwards. */
  async failure(agent: string, model: string, settings: BreakerSettings): Promise<BreakerState> {
    return (await this.failureState(agent, model, settings)).state;
  }

  /** Records a failure; resolves with the state and failure count afterwards. */
  async failureState(agent: string, model: string, settings: BreakerSettings): Promise<BreakerOutcome> {
    const [state, failures] = await this.run("failure", agent, model, settings);
    return { state: (state as BreakerState | undefined) ?? "closed", failures: Number(failures ?? 0) };
  }

  /** Every model's circuit of an agent (for GET /api/v1/agents and metrics). */
  async read(agent: string): Promise<Record<string, BreakerView>> {
    const raw = await this.redis.hgetall(this.keys.breaker(agent));
    const out: Record<string, BreakerView> = {};
    const now = Date.now();
    for (const [field, value] of Object.entries(raw)) {
      const cut = field.lastIndexOf("|");
      const model = field.slice(0, cut);
      const name = field.slice(cut + 1);
      const view = out[model] ?? { state: "closed", failures: 0, open_until: 0, opened: 0 };
      out[model] = view;
      if (name === "state") view.state = value as BreakerState;
      else if (name === "failures") view.failures = Number(value);
      else if (name === "open_until") view.open_until = Number(value);
      else if (name === "opened") view.opened = Number(value);
    }
    // An open circuit whose time is up admits the next call as a probe.
    for (const view of Object.values(out)) if (view.state === "open" && view.open_until <= now) view.state = "half_open";
    return out;
  }

  /**
   * Whether a call to the model would be let through now (for schedulers choosing among agents):
   * false only while its circuit is open. Reads one hash field; no state changes.
   */
  async available(agent: string, model: string): Promise<boolean> {
    const [state, until] = await this.redis.hmget(this.keys.breaker(agent), `${model}|state`, `${model}|open_until`);
    return state !== "open" || Number(until ?? 0) <= Date.now();
  }

  private async run(op: string, agent: string, model: string, s: BreakerSettings): Promise<Array<string | number>> {
    const ttl = Math.max(s.windowMs, s.openMs) * 10 + 60_000;
    return (await SCRIPT.run(
      this.redis,
      [this.keys.breaker(agent)],
      [op, model, Date.now(), s.failureThreshold, s.windowMs, s.openMs, ttl, agent, this.keys.breakerOpenedChannel()],
    )) as Array<string | number>;
  }
}
