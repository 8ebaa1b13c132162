import { createHash, randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { z } from "zod";
import type { Keys } from "./keys.js";

/** An API key created through the API. Only the SHA-256 of the key is stored, never the key. */
export const StoredApiKey = z.object({
  id: z.string(),
  tenant: z.string(),
  role: z.enum(["admin", "operator", "viewer"]),
  name: z.string().optional(),
  rate_limit: z.object({ requests_per_second: z.number().int().min(0), burst: z.number().int().min(1) }).optional(),
  created_at: z.number().int(),
  created_by: z.string(),
});
export type StoredApiKey = z.infer<typeof StoredApiKey>;

export function apiKeyHash(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/**
 * API keys kept in Redis, by hash: `<prefix>:apikeys` maps sha256(key) → record, and each tenant's
 * `<prefix>:t:<tenant>:apikeys` maps key id → hash (for listing and revoking). A key's id is the
 * first 12 hex digits of its hash, as for keys from config.
 */
export class ApiKeyStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** Creates a key; the only time the key itself is ever returned. */
  async create(input: Omit<StoredApiKey, "id" | "created_at">): Promise<{ key: string; record: StoredApiKey }> {
    const key = `sy_${randomBytes(32).toString("base64url")}`;
    const hash = apiKeyHash(key);
    const record: StoredApiKey = { ...input, id: hash.slice(0, 12), created_at: Date.now() };
    const results = await this.redis
      .multi()
      .hset(this.keys.apiKeys(), hash, JSON.stringify(record))
      .hset(this.keys.tenantApiKeys(input.tenant), record.id, hash)
      .exec();
    for (const [error] of results ?? []) if (error) throw error;
    return { key, record };
  }

  async findByHash(hash: string): Promise<StoredApiKey | undefined> {
    const json = await this.redis.hget(this.keys.apiKeys(), hash);
    if (!json) return undefined;
    try {
      const parsed = StoredApiKey.safeParse(JSON.parse(json));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  async list(tenant: string): Promise<StoredApiKey[]> {
    const hashes = Object.values(await this.redis.hgetall(this.keys.tenantApiKeys(tenant)));
    if (hashes.length === 0) return [];
    const records = await this.redis.hmget(this.keys.apiKeys(), ...hashes);
    return records
      .flatMap((json) => {
        try {
          const parsed = StoredApiKey.safeParse(JSON.parse(json ?? "null"));
          return parsed.success ? [parsed.data] : [];
        } catch {
          return [];
        }
      })
      .sort((a, b) => a.created_at - b.created_at);
  }

  /** False when the tenant has no key with that id. */
  async revoke(tenant: string, id: string): Promise<boolean> {
    const hash = await this.redis.hget(this.keys.tenantApiKeys(tenant), id);
    if (!hash) return false;
    await this.redis.multi().hdel(this.keys.apiKeys(), hash).hdel(this.keys.tenantApiKeys(tenant), id).exec();
    return true;
  }
}
