import type { ChainableCommander, Redis } from "ioredis";
import type { Keys } from "./keys.js";

/**
 * Admission of a new task, run in the same MULTI as BullMQ's add of its job (one round trip):
 * records the task in its tenant's index, atomically with the Idempotency-Key check and the
 * tenant's queued-task quota. When it refuses, it *vetoes the add* that follows it in the
 * transaction: it leaves a short-lived placeholder at the job's key, and BullMQ does not add a
 * job whose id exists (documented: a custom job id already present is not added again).
 *   KEYS[1] idempotency key (ignored unless ARGV[8] == "1")
 *   KEYS[2] tenant queued set (quota)   KEYS[3] tenant task → agent hash
 *   KEYS[4] tenant task order           KEYS[5] set of tenants
 *   KEYS[6] the job's key (the veto placeholder goes there)
 *   ARGV: task id, agent, request hash, idempotency window (s), quota (0 = off), now (ms), tenant,
 *         has idempotency key ("1"/"0"), forget-before (ms: quota entries older than this are
 *         dropped), "1" to clear this task's own placeholder first (a retry)
 * Returns {"ok"} | {"duplicate", "<task id>|<request hash>"} | {"quota", "<queued count>"}.
 */
const ADMIT_LUA = `
local function veto()
  redis.call("HSET", KEYS[6], "switchyard_refused", "1")
  redis.call("PEXPIRE", KEYS[6], 60000)
end
if ARGV[10] == "1" and redis.call("HEXISTS", KEYS[6], "switchyard_refused") == 1 then redis.call("DEL", KEYS[6]) end
local hasKey = ARGV[8] == "1"
if hasKey then
  local existing = redis.call("GET", KEYS[1])
  if existing then
    veto()
    return {"duplicate", existing}
  end
end
local quota = tonumber(ARGV[5])
if quota > 0 then
  redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", "(" .. ARGV[9])
  local queued = redis.call("ZCARD", KEYS[2])
  if queued >= quota then
    veto()
    return {"quota", tostring(queued)}
  end
end
if hasKey then redis.call("SET", KEYS[1], ARGV[1] .. "|" .. ARGV[3], "EX", ARGV[4]) end
redis.call("HSET", KEYS[3], ARGV[1], ARGV[2])
redis.call("ZADD", KEYS[4], 0, ARGV[1])
if quota > 0 then redis.call("ZADD", KEYS[2], ARGV[6], ARGV[2] .. "|" .. ARGV[1]) end
redis.call("SADD", KEYS[5], ARGV[7])
return {"ok"}
`;

/** Name of the admission script as an ioredis command (sent as EVAL once per socket, then EVALSHA). */
const ADMIT_COMMAND = "switchyardAdmit6";

/** The part of an ioredis MULTI this module uses (BullMQ's transactions are ioredis ones). */
export type AdmissionTransaction = ChainableCommander;

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
  ) {
    // On the connection the queues use, so their transactions carry it too.
    if (typeof (redis as unknown as Record<string, unknown>)[ADMIT_COMMAND] !== "function")
      redis.defineCommand(ADMIT_COMMAND, { numberOfKeys: 6, lua: ADMIT_LUA });
  }

  /**
   * Admits a task and adds its job in one MULTI (one round trip). `addJob` queues the job's add on
   * the transaction; it is skipped (vetoed) when admission refuses. Over quota, tasks that have
   * started since are forgotten (workers do not report starts) and it is tried once more.
   * Returns the admission's outcome and the add's reply (the job id, when admitted).
   */
  async admitAndAdd(
    request: AdmitRequest,
    jobKey: string,
    transaction: () => Promise<AdmissionTransaction>,
    addJob: (tx: AdmissionTransaction) => void,
  ): Promise<{ admission: AdmitResult; added: unknown }> {
    let outcome = await this.runWithAdd(request, jobKey, transaction, addJob, false);
    if (outcome.admission.kind === "over_quota" && (await this.pruneStarted(request.tenant)) > 0)
      outcome = await this.runWithAdd(request, jobKey, transaction, addJob, true);
    // Refused: the veto placeholder has done its job (it would expire by itself in a minute).
    if (outcome.admission.kind !== "admitted") await this.redis.del(jobKey).catch(() => {});
    return outcome;
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

  private async runWithAdd(
    request: AdmitRequest,
    jobKey: string,
    transaction: () => Promise<AdmissionTransaction>,
    addJob: (tx: AdmissionTransaction) => void,
    retry: boolean,
  ): Promise<{ admission: AdmitResult; added: unknown }> {
    const tx = await transaction();
    const admit = (tx as unknown as Record<string, unknown>)[ADMIT_COMMAND];
    if (typeof admit !== "function") throw new Error("task admission: the transaction is not on the admission's Redis connection");
    const { tenant } = request;
    admit.call(
      tx,
      this.keys.idempotency(tenant, request.idempotencyKeyHash ?? "-"),
      this.keys.tenantQueued(tenant),
      this.keys.tenantTasks(tenant),
      this.keys.tenantTaskOrder(tenant),
      this.keys.tenants(),
      jobKey,
      request.taskId,
      request.agent,
      request.requestHash,
      request.idempotencyWindowSeconds,
      request.quota,
      Date.now(),
      tenant,
      request.idempotencyKeyHash ? "1" : "0",
      Date.now() - request.quotaHorizonSeconds * 1_000,
      retry ? "1" : "0",
    );
    addJob(tx);
    const results = (await tx.exec()) ?? [];
    const [admitError, reply] = results[0] ?? [new Error("no reply"), null];
    const [addError, added] = results[1] ?? [new Error("no reply"), null];
    // Admission did not run (a script error): whatever the add did must not stand.
    if (admitError) throw Object.assign(admitError, { addedUnadmitted: !addError });
    if (addError) throw addError;
    return { admission: parseAdmit(reply as [string, string?]), added };
  }
}

function parseAdmit(reply: [string, string?]): AdmitResult {
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
