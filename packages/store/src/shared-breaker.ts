import type { BreakerDecision, BreakerSettings, BreakerState, CircuitBreakerStore } from "./circuit-breaker.js";

/** A process-local view of one (agent, model) circuit, as last read from Redis. */
interface View {
  closed: boolean;
  failures: number;
  /** When the Redis reply it came from was requested (the view's clock). */
  refreshedAt: number;
}

export interface SharedBreakerOptions {
  /** How long a view read from Redis may answer acquire locally (default 1 s). */
  refreshMs?: number;
  /** The views' clock (tests). */
  now?: () => number;
}

/** Views kept at most (model names can come from task arguments); all are dropped past it. */
const MAX_VIEWS = 10_000;

/**
 * The circuit breaker as one worker process uses it: the state stays in Redis (shared by every
 * worker, see CircuitBreakerStore), and a process-local view of each circuit saves the round
 * trips of the steady state.
 *
 * - `acquire` is answered locally while the view says closed, was read from Redis less than
 *   `refreshMs` ago, and announcements are being followed (see BreakerAnnouncements); a circuit
 *   opened anywhere is announced and drops the view. Otherwise acquire asks Redis, as always.
 * - `failure` always goes to Redis (the threshold is counted there) and refreshes the view.
 * - `success` writes only when there is something to reset: the view shows failures or a
 *   non-closed state, the call was a probe, or there is no view.
 *
 * Trade-offs (documented in docs/providers.md): a call may be let through during the pub/sub
 * delay after another worker opened the circuit, and a success seen through a cached closed view
 * does not reset failures other workers recorded until the view is next refreshed.
 */
export class SharedBreaker {
  private readonly views = new Map<string, View>();
  private readonly refreshMs: number;
  private readonly now: () => number;
  /** Bumped on every invalidation: a Redis reply requested before it must not become a view. */
  private epoch = 0;
  private following = false;
  /** Calls answered from the local view / sent to Redis (tests, diagnostics). */
  readonly counts = { local: 0, redis: 0 };

  constructor(
    readonly store: CircuitBreakerStore,
    options: SharedBreakerOptions = {},
  ) {
    this.refreshMs = options.refreshMs ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  acquire(agent: string, model: string, settings: BreakerSettings): Promise<BreakerDecision> {
    const key = viewKey(agent, model);
    const view = this.views.get(key);
    if (this.following && view?.closed && this.now() - view.refreshedAt < this.refreshMs) {
      this.counts.local++;
      return Promise.resolve({ allowed: true, probe: false });
    }
    this.counts.redis++;
    const asked = this.ask();
    return this.store.acquireState(agent, model, settings).then(({ decision, failures }) => {
      // A probe's or a rejection's view is not closed: the next acquire asks Redis again.
      this.keep(key, asked, decision.allowed && !decision.probe, failures);
      return decision;
    });
  }

  async success(agent: string, model: string, settings: BreakerSettings, probe = false): Promise<void> {
    const key = viewKey(agent, model);
    const view = this.views.get(key);
    if (!probe && view?.closed && view.failures === 0) return;
    this.counts.redis++;
    const asked = this.ask();
    await this.store.success(agent, model, settings);
    this.keep(key, asked, true, 0);
  }

  /** Records a failure in Redis; resolves with the state afterwards. */
  async failure(agent: string, model: string, settings: BreakerSettings): Promise<BreakerState> {
    const key = viewKey(agent, model);
    this.counts.redis++;
    const asked = this.ask();
    const { state, failures } = await this.store.failureState(agent, model, settings);
    this.keep(key, asked, state === "closed", failures);
    return state;
  }

  /** A circuit opened somewhere: its view goes, so the next acquire asks Redis. */
  opened(agent: string, model: string): void {
    this.epoch++;
    this.views.delete(viewKey(agent, model));
  }

  /**
   * Whether announcements reach this process. While not, acquire always asks Redis. Any change
   * drops every view: announcements may have been missed.
   */
  setFollowing(following: boolean): void {
    this.following = following;
    this.epoch++;
    this.views.clear();
  }

  get isFollowing(): boolean {
    return this.following;
  }

  private ask(): { epoch: number; at: number } {
    return { epoch: this.epoch, at: this.now() };
  }

  private keep(key: string, asked: { epoch: number; at: number }, closed: boolean, failures: number): void {
    // Something was announced while the reply was on its way: the reply may predate it.
    if (asked.epoch !== this.epoch) {
      this.views.delete(key);
      return;
    }
    // Replies on one connection arrive in the order they were asked: the last one is the newest.
    if (this.views.size >= MAX_VIEWS && !this.views.has(key)) this.views.clear();
    this.views.set(key, { closed, failures, refreshedAt: asked.at });
  }
}

function viewKey(agent: string, model: string): string {
  return `${agent}\n${model}`;
}
