import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { ApiKeyConfig, ApiRateLimit } from "@switchyard/config";
import type { Role } from "@switchyard/core";
import type { NextFunction, Request, Response } from "express";
import { httpError } from "./http-errors.js";

export interface Principal {
  tenant: string;
  role: Role;
  /** Non-secret id of the key (a hash prefix), for logs and audit. */
  key_id: string;
  name?: string | undefined;
  /** Set when the key belongs to a registered participant agent (issued by register_agent). */
  agent_id?: string | undefined;
  /** This key's own request rate limit, when it overrides the default. */
  rate_limit?: ApiRateLimit | undefined;
}

declare global {
  namespace Express {
    interface Request {
      principal?: Principal;
    }
  }
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export function roleAtLeast(role: Role, required: Role): boolean {
  return RANK[role] >= RANK[required];
}

export function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** API keys, held by hash: a key is looked up by the hash of what the client sent. */
export class KeyRing {
  private readonly byHash = new Map<string, Principal & { hash: Buffer }>();

  constructor(keys: readonly ApiKeyConfig[]) {
    for (const key of keys) {
      const hash = sha256(key.key);
      this.byHash.set(hash.toString("hex"), {
        tenant: key.tenant,
        role: key.role,
        key_id: hash.toString("hex").slice(0, 12),
        name: key.name,
        rate_limit: key.rate_limit,
        hash,
      });
    }
  }

  get size(): number {
    return this.byHash.size;
  }

  authenticate(token: string): Principal | undefined {
    const hash = sha256(token);
    const found = this.byHash.get(hash.toString("hex"));
    // The map lookup is by a hash of the secret, so its timing reveals nothing about the key.
    if (!found || !timingSafeEqual(found.hash, hash)) return undefined;
    const { hash: _, ...principal } = found;
    return principal;
  }

  /** Session cookies for the dashboards: `<key_id>.<expiry>.<hmac>`, keyed by the key's hash. */
  issueSession(principal: Principal, ttlMs: number, now = Date.now()): string {
    const entry = [...this.byHash.values()].find((p) => p.key_id === principal.key_id);
    if (!entry) throw new Error("unknown key");
    const payload = `${principal.key_id}.${now + ttlMs}`;
    return `${payload}.${createHmac("sha256", entry.hash).update(payload).digest("base64url")}`;
  }

  verifySession(cookie: string, now = Date.now()): Principal | undefined {
    const [keyId, expiry, mac] = cookie.split(".");
    if (!keyId || !expiry || !mac || Number(expiry) < now) return undefined;
    const entry = [...this.byHash.values()].find((p) => p.key_id === keyId);
    if (!entry) return undefined;
    const expected = createHmac("sha256", entry.hash).update(`${keyId}.${expiry}`).digest();
    const given = Buffer.from(mac, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const { hash: _, ...principal } = entry;
    return principal;
  }
}

export function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (typeof header === "string") {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match) return match[1];
  }
  const apiKey = req.headers["x-api-key"];
  return typeof apiKey === "string" && apiKey.length > 0 ? apiKey : undefined;
}

/** Looks up keys created through the API (stored hashed in Redis). */
export interface StoredKeyLookup {
  findByHash(
    hash: string,
  ): Promise<{ id: string; tenant: string; role: Role; name?: string | undefined; rate_limit?: ApiRateLimit | undefined } | undefined>;
}

/**
 * Keys from Redis, cached briefly per process (a revoked key stops working within `ttlMs` on
 * every replica). Unknown tokens are cached too, so a flood of bad keys costs Redis little.
 */
export class StoredKeyCache {
  private readonly cache = new Map<string, { principal: Principal | undefined; at: number }>();

  constructor(
    private readonly lookup: StoredKeyLookup,
    private readonly ttlMs = 2_000,
    private readonly maxEntries = 10_000,
  ) {}

  async authenticate(token: string): Promise<Principal | undefined> {
    const hash = sha256(token).toString("hex");
    const cached = this.cache.get(hash);
    if (cached && Date.now() - cached.at < this.ttlMs) return cached.principal;
    const record = await this.lookup.findByHash(hash);
    const principal: Principal | undefined = record
      ? { tenant: record.tenant, role: record.role, key_id: record.id, name: record.name, rate_limit: record.rate_limit }
      : undefined;
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(hash, { principal, at: Date.now() });
    return principal;
  }

  /** Forget a key at once in this process (after revoking it here). */
  forget(keyId: string): void {
    for (const [hash, entry] of this.cache) if (hash.startsWith(keyId) || entry.principal?.key_id === keyId) this.cache.delete(hash);
  }
}

/** Keys issued at run time (participant agents'), looked up when the config keys do not match. */
export interface DynamicKeys {
  authenticate(token: string): Promise<Principal | undefined>;
}

/**
 * Every route behind this needs a valid key (bearer or X-API-Key): from config, else from each
 * run-time key source in turn (e.g. participant agents' keys).
 */
export function authenticate(keys: KeyRing, ...dynamic: (DynamicKeys | undefined)[]) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const token = bearerToken(req);
    let principal = token ? keys.authenticate(token) : undefined;
    for (const source of dynamic) {
      if (principal || !token || !source || token.length > 512) break;
      try {
        principal = await source.authenticate(token);
      } catch (error) {
        next(error);
        return;
      }
    }
    if (!principal) {
      res.setHeader("WWW-Authenticate", 'Bearer realm="switchyard"');
      next(httpError("UNAUTHORIZED", token ? "invalid API key" : "missing API key: send Authorization: Bearer <key>"));
      return;
    }
    req.principal = principal;
    next();
  };
}

/** A role guard; carries its role so route listings (OpenAPI, the auth tests) can read it back. */
export type RoleGuard = ((req: Request, res: Response, next: NextFunction) => void) & { requiredRole: Role };

export function requireRole(role: Role): RoleGuard {
  const guard = (req: Request, _res: Response, next: NextFunction): void => {
    const principal = req.principal;
    if (!principal) next(httpError("UNAUTHORIZED", "missing API key"));
    else if (RANK[principal.role] < RANK[role]) next(httpError("FORBIDDEN", `requires the ${role} role`));
    else next();
  };
  return Object.assign(guard, { requiredRole: role });
}

export function principalOf(req: Request): Principal {
  if (!req.principal) throw httpError("UNAUTHORIZED", "missing API key");
  return req.principal;
}
