import { type AgentDirectory, hashParticipantKey, PARTICIPANT_KEY_PREFIX } from "@switchyard/participants";
import type { Principal } from "./auth.js";

const MAX_CACHED = 10_000;

/**
 * Participant agents' keys, issued by `register_agent` and held in Redis only as a hash. Looked
 * up on each request with a small in-process cache, so a busy agent costs one Redis read per
 * `ttlMs`; a deregistered (revoked) key therefore keeps working for at most `ttlMs`.
 * Unknown keys are not cached: a key works the moment it is issued.
 */
export class ParticipantKeyLookup {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();

  constructor(
    private readonly directory: AgentDirectory,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a token has the shape of a participant key (so config keys skip the Redis read). */
  static applies(token: string): boolean {
    return token.startsWith(PARTICIPANT_KEY_PREFIX);
  }

  async authenticate(token: string): Promise<Principal | undefined> {
    if (!ParticipantKeyLookup.applies(token)) return undefined;
    const hash = hashParticipantKey(token);
    const cached = this.cache.get(hash);
    if (cached && cached.until > this.now()) return cached.principal;
    this.cache.delete(hash);
    const owner = await this.directory.keyOwner(hash);
    if (!owner) return undefined;
    // Participant agents act on their own tenant's work: the operator role, bound to their id.
    const principal: Principal = { tenant: owner.tenant, role: "operator", key_id: hash.slice(0, 12), agent_id: owner.agent_id };
    if (this.ttlMs > 0) {
      if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(hash, { principal, until: this.now() + this.ttlMs });
    }
    return principal;
  }

  /** Drops an agent's cached keys at once (it was deregistered through this replica). */
  forget(tenant: string, agentId: string): void {
    for (const [hash, entry] of this.cache)
      if (entry.principal.tenant === tenant && entry.principal.agent_id === agentId) this.cache.delete(hash);
  }
}
