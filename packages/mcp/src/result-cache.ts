/**
 * Results of read-only tools, kept for a TTL and keyed by tool and canonical arguments (object
 * keys sorted at every level, so `{a,b}` and `{b,a}` share an entry). In-process and bounded:
 * each worker keeps its own cache.
 */
export class ResultCache {
  private readonly entries = new Map<string, { value: unknown; expires: number }>();

  constructor(
    private readonly maxEntries = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(tool: string, args: unknown): { value: unknown } | undefined {
    const key = cacheKey(tool, args);
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return { value: hit.value };
  }

  set(tool: string, args: unknown, value: unknown, ttlMs: number): void {
    if (ttlMs <= 0) return;
    const key = cacheKey(tool, args);
    this.entries.delete(key);
    this.entries.set(key, { value, expires: this.now() + ttlMs });
    // Maps iterate in insertion order: the first key is the oldest.
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

export function cacheKey(tool: string, args: unknown): string {
  return `${tool}\u0000${canonicalJson(args)}`;
}

/** JSON with object keys sorted recursively. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}
