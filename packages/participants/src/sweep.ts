import type { Participants } from "./participants.js";
import type { ReturnedWork } from "./work-board.js";

export interface ParticipantSweepReport {
  /** Agents found offline by this sweep (each once, however many coordinators sweep). */
  offline: { tenant: string; agent_id: string }[];
  expired_tasks: string[];
}

/**
 * One sweep over every tenant with participants: agents whose heartbeat key expired are marked
 * offline (and reported, so the caller schedules the return of their work after the grace
 * period); tasks past their deadline fail. Idempotent; safe to run from several coordinators.
 */
export async function sweepParticipants(p: Participants): Promise<ParticipantSweepReport> {
  const report: ParticipantSweepReport = { offline: [], expired_tasks: [] };
  for (const tenant of await p.ctx.redis.smembers(p.keys.tenants())) {
    for (const agent of await p.directory.list(tenant)) {
      if (agent.status !== "offline") continue;
      if (!(await p.directory.markOffline(tenant, agent.id))) continue;
      report.offline.push({ tenant, agent_id: agent.id });
      await p.events.emit(tenant, "agent.offline", {
        agent_id: agent.id,
        last_heartbeat: agent.last_heartbeat,
        grace_ms: p.ctx.settings.offline_grace_ms,
      });
    }
    report.expired_tasks.push(...(await p.work.expireDeadlines(tenant)));
  }
  return report;
}

/**
 * After the grace period: if the agent is still offline, its claimed tasks go back to the queue
 * and tasks delegated to it by name go to another live agent that can do them.
 */
export async function reclaimOfflineAgent(p: Participants, tenant: string, agentId: string): Promise<ReturnedWork[]> {
  if (await p.directory.isAlive(tenant, agentId)) return [];
  return p.work.returnWork(tenant, agentId);
}
