import type { ParticipantContext } from "./context.js";

export interface DelegationEdge {
  task_id: string;
  waiter: string;
  holder: string;
}

export interface Deadlock {
  /** Agents in wait order, the first repeated at the end: `[a, b, a]` = a waits on b waits on a. */
  agents: string[];
  /** The subtasks that make up the cycle's edges, in the same order. */
  task_ids: string[];
}

/**
 * The delegation wait-for graph: when the agent holding a task delegates a subtask that another
 * agent takes (or is named for), the first waits on the second. One hash per tenant,
 * subtask id → "waiter>holder"; edges go when the subtask finishes or is returned. A cycle is a
 * deadlock: nobody in it can finish before someone else in it does.
 */
export class DelegationGraph {
  constructor(private readonly ctx: ParticipantContext) {}

  async add(tenant: string, taskId: string, waiter: string, holder: string): Promise<Deadlock | undefined> {
    if (waiter === holder) {
      await this.remove(tenant, taskId);
      return undefined;
    }
    await this.ctx.redis.hset(this.ctx.keys.waits(tenant), taskId, `${waiter}>${holder}`);
    const found = (await this.cycles(tenant)).find((cycle) => cycle.task_ids.includes(taskId));
    if (found) await this.ctx.events.emit(tenant, "delegation.deadlock", { agents: found.agents, task_ids: found.task_ids });
    return found;
  }

  async remove(tenant: string, taskId: string): Promise<void> {
    await this.ctx.redis.hdel(this.ctx.keys.waits(tenant), taskId);
  }

  async edges(tenant: string): Promise<DelegationEdge[]> {
    const raw = await this.ctx.redis.hgetall(this.ctx.keys.waits(tenant));
    return Object.entries(raw).flatMap(([task_id, value]) => {
      const [waiter, holder] = value.split(">");
      return waiter && holder ? [{ task_id, waiter, holder }] : [];
    });
  }

  /** Every elementary cycle, each once (starting from its smallest agent id). */
  async cycles(tenant: string): Promise<Deadlock[]> {
    const edges = await this.edges(tenant);
    const out = new Map<string, DelegationEdge[]>();
    for (const edge of edges) out.set(edge.waiter, [...(out.get(edge.waiter) ?? []), edge]);
    const found = new Map<string, Deadlock>();
    const walk = (start: string, at: string, path: DelegationEdge[], seen: Set<string>) => {
      for (const edge of out.get(at) ?? []) {
        if (edge.holder === start) {
          const cycle = [...path, edge];
          const agents = [...cycle.map((e) => e.waiter), start];
          const key = cycle.map((e) => e.task_id).join(",");
          if (!found.has(key)) found.set(key, { agents, task_ids: cycle.map((e) => e.task_id) });
        } else if (edge.holder > start && !seen.has(edge.holder)) {
          seen.add(edge.holder);
          walk(start, edge.holder, [...path, edge], seen);
          seen.delete(edge.holder);
        }
      }
    };
    for (const start of [...out.keys()].sort()) walk(start, start, [], new Set([start]));
    return [...found.values()];
  }
}
