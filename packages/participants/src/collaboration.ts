import { NonRetryableError, newId, type ToolActor } from "@switchyard/core";
import type { z } from "zod";
import { actorLabel, iso, type ParticipantContext } from "./context.js";
import type { AgentDirectory } from "./directory.js";
import { fieldMap } from "./events.js";
import {
  CollaborationSession,
  type CreateCollaborationSessionInput,
  type EvaluateContributionInput,
  Evaluation,
  type InboxMessage,
} from "./schemas.js";

const MAX_EVALUATIONS = 1_000;

/** Collaboration sessions (a shared thread + context) and contribution evaluations. */
export class Collaboration {
  constructor(
    private readonly ctx: ParticipantContext,
    private readonly directory: AgentDirectory,
  ) {}

  async create(actor: ToolActor, input: z.infer<typeof CreateCollaborationSessionInput>): Promise<CollaborationSession> {
    const tenant = actor.tenant;
    const coordinator = input.coordinator ?? actor.agent_id ?? input.participants[0];
    if (!coordinator) throw new NonRetryableError("VALIDATION_FAILED", "a session needs a coordinator");
    for (const id of new Set([...input.participants, coordinator])) await this.directory.require(tenant, id);
    const now = this.ctx.now();
    const session: CollaborationSession = {
      session_id: newId("ses", now),
      title: input.title,
      participants: [...new Set(input.participants)],
      coordinator,
      context: input.context,
      created_by: actorLabel(actor),
      created_at: iso(now),
    };
    await this.ctx.redis.hset(this.ctx.keys.sessions(tenant), session.session_id, JSON.stringify(session));
    return session;
  }

  async get(tenant: string, id: string): Promise<CollaborationSession> {
    const json = await this.ctx.redis.hget(this.ctx.keys.sessions(tenant), id);
    if (!json) throw new NonRetryableError("NOT_FOUND", `no collaboration session '${id}'`);
    return CollaborationSession.parse(JSON.parse(json));
  }

  /** The newest `limit` messages of the session's thread, oldest first. */
  async thread(tenant: string, id: string, limit: number): Promise<Omit<InboxMessage, "deliveries">[]> {
    if (limit === 0) return [];
    const entries = await this.ctx.redis.xrevrange(this.ctx.keys.sessionThread(tenant, id), "+", "-", "COUNT", limit);
    return entries.reverse().map(([messageId, raw]) => {
      const map = fieldMap(raw);
      return {
        id: messageId,
        from: map.from ?? "",
        to: "",
        kind: map.kind ?? "message",
        subject: map.subject ?? "",
        body: map.body ? JSON.parse(map.body) : null,
        session_id: id,
        sent_at: map.sent_at ?? "",
      };
    });
  }

  async evaluate(actor: ToolActor, input: z.infer<typeof EvaluateContributionInput>): Promise<Evaluation> {
    const tenant = actor.tenant;
    await this.directory.require(tenant, input.agent_id);
    if (actor.agent_id === input.agent_id) throw new NonRetryableError("FORBIDDEN", "an agent cannot evaluate its own contribution");
    const evaluation: Evaluation = {
      agent_id: input.agent_id,
      evaluator: actorLabel(actor),
      task_id: input.task_id ?? null,
      session_id: input.session_id ?? null,
      scores: input.scores,
      comments: input.comments,
      created_at: iso(this.ctx.now()),
    };
    const key = this.ctx.keys.evaluations(tenant, input.agent_id);
    await this.ctx.redis
      .multi()
      .lpush(key, JSON.stringify(evaluation))
      .ltrim(key, 0, MAX_EVALUATIONS - 1)
      .exec();
    return evaluation;
  }

  /** Newest evaluations of an agent, with the mean of each score over them. */
  async evaluations(
    tenant: string,
    agentId: string,
    limit: number,
  ): Promise<{ evaluations: Evaluation[]; averages: Record<string, number> }> {
    const raw = await this.ctx.redis.lrange(this.ctx.keys.evaluations(tenant, agentId), 0, limit - 1);
    const evaluations = raw.map((json) => Evaluation.parse(JSON.parse(json)));
    const sums = new Map<string, { total: number; n: number }>();
    for (const evaluation of evaluations)
      for (const [name, score] of Object.entries(evaluation.scores)) {
        const sum = sums.get(name) ?? { total: 0, n: 0 };
        sums.set(name, { total: sum.total + score, n: sum.n + 1 });
      }
    const averages = Object.fromEntries([...sums].map(([name, { total, n }]) => [name, Math.round((total / n) * 100) / 100]));
    return { evaluations, averages };
  }
}
