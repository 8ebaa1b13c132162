import { NonRetryableError, RetryableError } from "@switchyard/core";
import type { TaskQueues } from "@switchyard/queue";
import type { CatalogCache } from "@switchyard/store";
import type { AgentDirectory, EffectiveAgent } from "./agent-directory.js";

/** How busy an agent is across every worker serving it. */
export interface AgentLoad {
  /** Tasks running now. */
  active: number;
  /** Tasks waiting (including delayed retries). */
  queued: number;
  /** Tasks that can run at once: per-worker concurrency × live workers (0 when none is live). */
  capacity: number;
  /** (active + queued) / capacity; Infinity when there is no capacity. */
  ratio: number;
}

export interface SchedulerDeps {
  agents: AgentDirectory;
  catalog: CatalogCache;
  queues: TaskQueues;
  /**
   * Extra health check (e.g. a provider's shared circuit breaker): agents it rejects are skipped.
   * Called only for agents that already have a live worker.
   */
  isAvailable?: (agent: EffectiveAgent) => Promise<boolean>;
  /** Random source for spreading ties (injectable for tests). */
  random?: () => number;
}

/** Chooses an agent for tasks submitted by capability. */
export class Scheduler {
  constructor(private readonly deps: SchedulerDeps) {}

  /** Loads from BullMQ's own job counts (one pipelined read per agent) and the live catalog. */
  async loads(agents: EffectiveAgent[]): Promise<Map<string, AgentLoad>> {
    const live = await this.deps.catalog.live();
    const counts = await Promise.all(
      agents.map((agent) => this.deps.queues.get(agent.name).getJobCounts("active", "waiting", "prioritized", "delayed")),
    );
    const loads = new Map<string, AgentLoad>();
    agents.forEach((agent, i) => {
      const c = counts[i] ?? {};
      const active = c.active ?? 0;
      const queued = (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0);
      const capacity = (live.get(agent.name)?.workers ?? 0) * agent.config.concurrency;
      loads.set(agent.name, { active, queued, capacity, ratio: capacity > 0 ? (active + queued) / capacity : Number.POSITIVE_INFINITY });
    });
    return loads;
  }

  /**
   * The healthy agent with the capability and the lowest load, ties broken at random. Healthy
   * means at least one worker's heartbeat claim is live: workers stop renewing the claim of an
   * agent whose client is unhealthy (circuit open), so such agents drop out here.
   */
  async pick(capability: string, tenant: string, toolName?: string): Promise<string> {
    const candidates = (await this.deps.agents.visibleTo(tenant)).filter((agent) => agent.config.capabilities.includes(capability));
    if (candidates.length === 0) throw new NonRetryableError("AGENT_NOT_FOUND", `no agent offers capability '${capability}'`);
    const live = await this.deps.catalog.live();
    let healthy = candidates.filter((agent) => {
      const entry = live.get(agent.name);
      return entry && entry.workers > 0 && (!toolName || entry.tools.some((tool) => tool.name === toolName));
    });
    const check = this.deps.isAvailable;
    if (check && healthy.length > 0) {
      const ok = await Promise.all(healthy.map((agent) => check(agent).catch(() => true)));
      healthy = healthy.filter((_, i) => ok[i]);
    }
    if (healthy.length === 0)
      throw new RetryableError(
        "AGENT_UNAVAILABLE",
        `no healthy agent with capability '${capability}'${toolName ? ` offers tool '${toolName}'` : ""}`,
        {
          retryAfterMs: 5_000,
        },
      );
    if (healthy.length === 1) return (healthy[0] as EffectiveAgent).name;
    const loads = await this.loads(healthy);
    const lowest = Math.min(...healthy.map((agent) => loads.get(agent.name)?.ratio ?? Number.POSITIVE_INFINITY));
    const best = healthy.filter((agent) => (loads.get(agent.name)?.ratio ?? Number.POSITIVE_INFINITY) <= lowest + 1e-9);
    const random = this.deps.random ?? Math.random;
    return (best[Math.floor(random() * best.length)] ?? (best[0] as EffectiveAgent)).name;
  }
}
