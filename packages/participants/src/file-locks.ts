import { NonRetryableError, SwitchyardError } from "@switchyard/core";
import { type ParticipantContext, pause } from "./context.js";
import { normalizeLockPath } from "./paths.js";
import { acquireLock, releaseLock, renewLock } from "./scripts.js";

const POLL_MS = 50;

export interface LockState {
  path: string;
  held: boolean;
  owner: string | null;
  /** Fencing token: strictly greater for every new acquisition in the tenant. Pass it with writes. */
  token: string | null;
  ttl_ms: number | null;
}

/**
 * Advisory file locks for participant agents. One hash per (tenant, normalized path) with owner
 * and fencing token and a TTL, so the lock of an agent that died expires by itself. Acquire,
 * renew and release are Lua scripts: atomic, and release/renew only by the owner.
 */
export class FileLocks {
  constructor(private readonly ctx: ParticipantContext) {}

  async acquire(tenant: string, owner: string, rawPath: string, ttlMs: number, waitMs: number, signal?: AbortSignal): Promise<LockState> {
    const path = normalizeLockPath(rawPath);
    const { redis, keys, settings } = this.ctx;
    const ttl = Math.min(ttlMs, settings.max_lock_ttl_ms);
    const deadline = this.ctx.now() + Math.min(waitMs, settings.max_wait_ms);
    for (;;) {
      const [ok, holder, token, pttl] = (await acquireLock.run(
        redis,
        [keys.lock(tenant, path), keys.fence(tenant)],
        [owner, ttl, path],
      )) as [number, string, string, number];
      if (ok === 1) return { path, held: true, owner, token: String(token), ttl_ms: Number(pttl) };
      const left = deadline - this.ctx.now();
      if (left <= 0 || signal?.aborted)
        throw new SwitchyardError("CONFLICT", `'${path}' is locked by '${holder}'`, {
          details: { path, owner: holder, ttl_ms: Number(pttl) },
          retryAfterMs: Math.max(1, Number(pttl)),
        });
      await pause(Math.min(POLL_MS, left, Math.max(1, Number(pttl))), signal);
    }
  }

  async release(tenant: string, owner: string, rawPath: string, token?: string): Promise<LockState> {
    const path = normalizeLockPath(rawPath);
    const reply = await releaseLock.run(this.ctx.redis, [this.ctx.keys.lock(tenant, path)], [owner, token ?? ""]);
    this.refuse(reply, path);
    return { path, held: false, owner: null, token: null, ttl_ms: null };
  }

  async renew(tenant: string, owner: string, rawPath: string, ttlMs: number, token?: string): Promise<LockState> {
    const path = normalizeLockPath(rawPath);
    const ttl = Math.min(ttlMs, this.ctx.settings.max_lock_ttl_ms);
    const reply = await renewLock.run(this.ctx.redis, [this.ctx.keys.lock(tenant, path)], [owner, token ?? "", ttl]);
    this.refuse(reply, path);
    return this.check(tenant, path);
  }

  async check(tenant: string, rawPath: string): Promise<LockState> {
    const path = normalizeLockPath(rawPath);
    const key = this.ctx.keys.lock(tenant, path);
    const [fields, pttl] = await Promise.all([this.ctx.redis.hmget(key, "owner", "token"), this.ctx.redis.pttl(key)]);
    const [owner, token] = fields;
    if (!owner) return { path, held: false, owner: null, token: null, ttl_ms: null };
    return { path, held: true, owner, token: token ?? null, ttl_ms: pttl };
  }

  private refuse(reply: unknown, path: string): void {
    switch (reply) {
      case 1:
        return;
      case 0:
        throw new NonRetryableError("NOT_FOUND", `'${path}' is not locked (it was released or its TTL ran out)`);
      case -1:
        throw new NonRetryableError("FORBIDDEN", `'${path}' is locked by another agent; only the owner can release or renew it`);
      default:
        throw new NonRetryableError("CONFLICT", `fencing token does not match the lock on '${path}'`);
    }
  }
}
