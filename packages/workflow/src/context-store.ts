import type { Redis } from "ioredis";

/**
 * A run's context document: shared state across agent hand-offs. Every write bumps the version
 * and keeps a snapshot and a history entry (who wrote which paths, when), so a step or a client
 * can read any past version. Keys hold the tenant, and everything expires `retentionSeconds`
 * after the last write.
 *
 *   wf:t:<tenant>:ctx:{<run>}          hash  version → n, doc:<n> → JSON snapshot, w:<writer> → n
 *   wf:t:<tenant>:ctx:{<run>}:history  list  JSON {version, by, at, paths}
 */
export interface ContextHistoryEntry {
  version: number;
  by: string;
  at: number;
  paths: string[];
}

/**
 * ctx-write-2: writes a new version unless this writer already wrote (a redelivered step).
 *   KEYS[1] context hash, KEYS[2] history list
 *   ARGV[1] writer id, ARGV[2] expected version, ARGV[3] new doc JSON, ARGV[4] history JSON
 *   (without version), ARGV[5] ttl seconds
 * Returns the version written, 0 when the writer already wrote, -1 when the version moved.
 */
const WRITE = `
local done = redis.call('HGET', KEYS[1], 'w:' .. ARGV[1])
if done then return 0 end
local v = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if v ~= tonumber(ARGV[2]) then return -1 end
v = v + 1
redis.call('HSET', KEYS[1], 'version', v, 'doc:' .. v, ARGV[3], 'w:' .. ARGV[1], v)
redis.call('RPUSH', KEYS[2], string.sub(ARGV[4], 1, -2) .. ',"version":' .. v .. '}')
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return v
`;

export class ContextStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly retentionSeconds: number,
  ) {}

  private key(tenant: string, runId: string): string {
    return `${this.prefix}:wf:t:${tenant}:ctx:{${runId}}`;
  }

  /** The document at `version` (default: the latest), or undefined. Version 0 is the empty document. */
  async read(tenant: string, runId: string, version?: number): Promise<{ version: number; document: Record<string, unknown> } | undefined> {
    const key = this.key(tenant, runId);
    const latest = Number((await this.redis.hget(key, "version")) ?? 0);
    const v = version ?? latest;
    if (v === 0) return version === undefined || version === 0 ? { version: 0, document: {} } : undefined;
    if (v > latest) return undefined;
    const doc = await this.redis.hget(key, `doc:${v}`);
    return doc ? { version: v, document: JSON.parse(doc) as Record<string, unknown> } : undefined;
  }

  async history(tenant: string, runId: string): Promise<ContextHistoryEntry[]> {
    const entries = await this.redis.lrange(`${this.key(tenant, runId)}:history`, 0, -1);
    return entries.map((e) => JSON.parse(e) as ContextHistoryEntry);
  }

  /**
   * Sets each dotted path to its value, as one new version. Idempotent per `writer`: a second
   * write by the same writer (a redelivered step) changes nothing.
   */
  async write(tenant: string, runId: string, writer: string, values: Record<string, unknown>, now = Date.now()): Promise<number> {
    const key = this.key(tenant, runId);
    for (let attempt = 0; attempt < 50; attempt++) {
      const current = (await this.read(tenant, runId)) ?? { version: 0, document: {} };
      const doc = structuredClone(current.document);
      for (const [path, value] of Object.entries(values)) setPath(doc, path, value);
      const entry = JSON.stringify({ by: writer, at: now, paths: Object.keys(values) });
      const result = (await this.redis.eval(
        WRITE,
        2,
        key,
        `${key}:history`,
        writer,
        String(current.version),
        JSON.stringify(doc),
        entry,
        String(this.retentionSeconds),
      )) as number;
      if (result >= 0) return result;
    }
    throw new Error(`context of run ${runId}: too much contention`);
  }
}

/** `a.b.c` → doc.a.b.c = value, creating objects on the way. */
export function setPath(doc: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".").filter(Boolean);
  let node: Record<string, unknown> = doc;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (!next || typeof next !== "object" || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  const last = parts.at(-1);
  if (last) node[last] = value;
}

/** The declared parts of a document: `[conversation, variables.customer]` → the same shape, pruned. */
export function pickPaths(doc: Record<string, unknown>, paths: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of paths) {
    let node: unknown = doc;
    for (const part of path.split(".").filter(Boolean))
      node = node && typeof node === "object" ? (node as Record<string, unknown>)[part] : undefined;
    if (node !== undefined) setPath(out, path, structuredClone(node));
  }
  return out;
}
