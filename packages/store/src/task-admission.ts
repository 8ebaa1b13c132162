import type { Redis } from "ioredis";
import type { Keys } from "./keys.js";
import { LuaScript } from "./lua-script.js";

/**
 * admit-5: records a new task in its tenant's index, atomically with the Idempotency-Key check and
 * the tenant's queued-task quota, in one round trip.
 *   KEYS[1] idempotency key (ignored unless ARGV[8] == "1")
 *   KEYS[2] tenant queued set (quota)   KEYS[3] tenant task → agent hash
 *   KEYS[4] tenant task order           KEYS[5] set of tenants
 *   ARGV: task id, agent, request hash, idempotency window (s), quota (0 = off), now (ms), tenant,
 *         has idempotency key ("1"/"0"), forget-before (ms: quota entries older than this are dropped)
 * Returns {"ok"} | {"duplicate", "<task id>|<request hash>"} | {"quota", "<queued count>"}.
 */
const ADMIT = new LuaScript(
  "admit-5",
  `
local hasKey = ARGV[8] == "1"
if hasKey then
  local existing = redis.call("GET", KEYS[1])
  if existing then return {"duplicate", existing} end
end
local quota = tonumber(ARGV[5])
if quota > 0 then
  redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", "(" .. ARGV[9])
  local queued = redis.call("ZCARD", KEYS[2])
  if queued >= quota then return {"quota", tostring(queued)} end
end
if hasKey then redis.call("SET", KEYS[1], ARGV[1] .. "|" .. ARGV[3], "EX", ARGV[4]) end
redis.call("HSET", KEYS[3], ARGV[1], ARGV[2])
redis.call("ZADD", KEYS[4], 0, ARGV[1])
if quota > 0 then redis.call("ZADD", KEYS[2], ARGV[6], ARGV[2] .. "|" .. ARGV[1]) end
redis.call("SADD", KEYS[5], ARGV[7])
return {"ok"}
`,
  5,
);

export interface AdmitRequest {
  tenant: string;
  taskId: string;
  agent: string;
  /** SHA-256 (hex) of the Idempotency-Key, when the client sent one. */
  idempotencyKeyHash?: string | undefined;
  /** Hash of the request body, to tell a retry from a different request reusing the key. */
  requestHash: string;
  idempotencyWindowSeconds: number;
  /** Most not-yet-started tasks the tenant may have; 0 disables the quota. */
  quota: number;
  /**
   * Quota entries older than this many seconds are forgotten (the task retention): keeps the set
   * bounded without workers reporting starts. A task queued longer than that stops counting.
   */
  quotaHorizonSeconds: number;
}

export type AdmitResult =
  | { kind: "admitted" }
  | { kind: "duplicate"; taskId: string; requestHash: string }
  | { kind: "over_quota"; queued: number };

/** Is a task (by its queue's agent and id) past the queued state? Tells the quota what to forget. */
export type StartedProbe = (entries: Array<{ agent: string; taskId: string }>) => Promise<boolean[]>;

/**
 * Admission of new tasks: idempotency keys, the per-tenant queued quota and the tenant index,
 * all decided by one Lua script so concurrent api replicas cannot double-enqueue or overshoot.
 */
export class TaskAdmission {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly started: StartedProbe,
  ) {}

  async admit(request: AdmitRequest): Promise<AdmitResult> {
    let result = await this.run(request);
    // Over quota: forget tasks that have started since (workers do not report back), then retry once.
    if (result.kind === "over_quota" && (await this.pruneStarted(request.tenant)) > 0) result = await this.run(request);
    return result;
  }

  /** Undo an admission whose enqueue failed, so a retry with the same key can succeed. */
  async forget(request: AdmitRequest): Promise<void> {
    const pipeline = this.redis.pipeline();
    if (request.idempotencyKeyHash) pipeline.del(this.keys.idempotency(request.tenant, request.idempotencyKeyHash));
    pipeline.zrem(this.keys.tenantQueued(request.tenant), `${request.agent}|${request.taskId}`);
    await pipeline.exec();
  }

  /** The task left the queued state without starting (cancelled, moved, failed on agent removal). */
  async dequeued(tenant: string, agent: string, taskId: string): Promise<void> {
    await this.redis.zrem(this.keys.tenantQueued(tenant), `${agent}|${taskId}`);
  }

  /** Removes up to `scan` of the oldest quota entries whose task has started or is gone. */
  async pruneStarted(tenant: string, scan = 1_000): Promise<number> {
    const key = this.keys.tenantQueued(tenant);
    const members = await this.redis.zrange(key, "0", String(scan - 1));
    const entries = members.map((member) => {
      const bar = member.indexOf("|");
      return { member, agent: member.slice(0, bar), taskId: member.slice(bar + 1) };
    });
    if (entries.length === 0) return 0;
    const started = await this.started(entries);
    const stale = entries.filter((_, i) => started[i]).map((e) => e.member);
    if (stale.length > 0) await this.redis.zrem(key, ...stale);
    return stale.length;
  }

  private async run(request: AdmitRequest): Promise<AdmitResult> {
    const { tenant } = request;
    const reply = (await ADMIT.run(
      this.redis,
      [
        this.keys.idempotency(tenant, request.idempotencyKeyHash ?? "-"),
        this.keys.tenantQueued(tenant),
        this.keys.tenantTasks(tenant),
        this.keys.tenantTaskOrder(tenant),
        this.keys.tenants(),
      ],
      [
        request.taskId,
        request.agent,
        request.requestHash,
        request.idempotencyWindowSeconds,
        request.quota,
        Date.now(),
        tenant,
        request.idempotencyKeyHash ? "1" : "0",
        Date.now() - request.quotaHorizonSeconds * 1_000,
      ],
    )) as [string, string?];
    switch (reply[0]) {
      case "duplicate": {
        const value = reply[1] ?? "";
        const bar = value.indexOf("|");
        return { kind: "duplicate", taskId: value.slice(0, bar), requestHash: value.slice(bar + 1) };
      }
      case "quota":
        return { kind: "over_quota", queued: Number(reply[1]) };
      default:
        return { kind: "admitted" };
    }
  }
}
