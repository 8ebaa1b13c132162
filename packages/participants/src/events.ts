import type { Logger } from "@switchyard/observability";
import type { Redis } from "@switchyard/redis";
import { z } from "zod";
import type { ParticipantKeys } from "./keys.js";

export const COORDINATION_EVENT_TYPES = [
  "agent.registered",
  "agent.deregistered",
  "agent.offline",
  "agent.online",
  "task.delegated",
  "task.returned",
  "task.redelegated",
  "task.deadline_expired",
  "message.flooding",
  "delegation.deadlock",
] as const;
export type CoordinationEventType = (typeof COORDINATION_EVENT_TYPES)[number];

export const CoordinationEvent = z.object({
  id: z.string(),
  type: z.enum(COORDINATION_EVENT_TYPES),
  at: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type CoordinationEvent = z.infer<typeof CoordinationEvent>;

const MAX_EVENTS = 10_000;

/**
 * Coordination events: a capped Redis stream per tenant (readable through `list_coordination_events`)
 * and a log line each, so operators see them without asking.
 */
export class CoordinationEvents {
  constructor(
    private readonly redis: Redis,
    private readonly keys: ParticipantKeys,
    private readonly logger: Logger,
  ) {}

  async emit(tenant: string, type: CoordinationEventType, data: Record<string, unknown>): Promise<void> {
    const at = new Date().toISOString();
    this.logger.info({ event: type, tenant, ...data }, `participant event ${type}`);
    await this.redis.xadd(this.keys.events(tenant), "MAXLEN", "~", MAX_EVENTS, "*", "type", type, "at", at, "data", JSON.stringify(data));
  }

  async list(tenant: string, after: string | undefined, limit: number): Promise<CoordinationEvent[]> {
    const start = after ? `(${after}` : "-";
    const entries = await this.redis.xrange(this.keys.events(tenant), start, "+", "COUNT", limit);
    return entries.map(([id, fields]) => {
      const map = fieldMap(fields);
      return CoordinationEvent.parse({ id, type: map.type, at: map.at, data: JSON.parse(map.data ?? "{}") });
    });
  }
}

export function fieldMap(fields: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) map[fields[i] as string] = fields[i + 1] as string;
  return map;
}
