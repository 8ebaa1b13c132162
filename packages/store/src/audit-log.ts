import type { Redis } from "ioredis";
import { z } from "zod";
import type { Keys } from "./keys.js";

/** One mutating API call: who, what, when, outcome. Never holds request bodies or secrets. */
export const AuditEntry = z.object({
  id: z.string(),
  at: z.string(),
  tenant: z.string(),
  key_id: z.string(),
  key_name: z.string().optional(),
  role: z.string(),
  method: z.string(),
  path: z.string(),
  status: z.number().int(),
  outcome: z.string(),
  target: z.string().optional(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;
export type NewAuditEntry = Omit<AuditEntry, "id" | "at">;

/** A capped Redis stream per tenant. */
export class AuditLog {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly maxLength = 100_000,
  ) {}

  async append(entry: NewAuditEntry): Promise<void> {
    const fields: string[] = ["at", new Date().toISOString()];
    for (const [name, value] of Object.entries(entry)) if (value !== undefined) fields.push(name, String(value));
    await this.redis.xadd(this.keys.audit(entry.tenant), "MAXLEN", "~", this.maxLength, "*", ...fields);
  }

  /** Newest first; `cursor` is the id of the last entry of the previous page. */
  async list(tenant: string, limit: number, cursor?: string): Promise<{ entries: AuditEntry[]; next_cursor: string | null }> {
    const rows = await this.redis.xrevrange(this.keys.audit(tenant), cursor ? `(${cursor}` : "+", "-", "COUNT", limit);
    const entries: AuditEntry[] = [];
    for (const [id, fields] of rows) {
      const record: Record<string, unknown> = { id };
      for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i] as string] = fields[i + 1];
      record.status = Number(record.status);
      const parsed = AuditEntry.safeParse(record);
      if (parsed.success) entries.push(parsed.data);
    }
    const last = rows.at(-1);
    return { entries, next_cursor: rows.length === limit && last ? last[0] : null };
  }
}
