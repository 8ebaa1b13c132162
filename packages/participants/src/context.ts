import type { SwitchyardConfig } from "@switchyard/config";
import { NonRetryableError, type ToolActor } from "@switchyard/core";
import type { Logger } from "@switchyard/observability";
import type { Redis } from "@switchyard/redis";
import type { CoordinationEvents } from "./events.js";
import type { ParticipantKeys } from "./keys.js";

export type ParticipantSettings = SwitchyardConfig["participants"];

/** What every participant store needs: one Redis client, the keys, settings, events, a clock. */
export interface ParticipantContext {
  redis: Redis;
  keys: ParticipantKeys;
  settings: ParticipantSettings;
  logger: Logger;
  events: CoordinationEvents;
  now(): number;
}

/** The agent a participant key belongs to. Acting-as-self operations never take an id from the body. */
export function selfAgent(actor: ToolActor): string {
  if (!actor.agent_id) throw new NonRetryableError("FORBIDDEN", "this operation needs a participant agent's key (from register_agent)");
  return actor.agent_id;
}

/** Who did something, for records: the agent, else the API key's id. */
export function actorLabel(actor: ToolActor): string {
  return actor.agent_id ?? `key:${actor.key_id}`;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Sleeps until `ms` passes or the signal aborts (long-polls stop when the client goes away). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
