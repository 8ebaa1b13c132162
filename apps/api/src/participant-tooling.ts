import type { SwitchyardConfig } from "@switchyard/config";
import type { OrchestrationTool, ToolActor } from "@switchyard/core";
import type { Logger, SwitchyardMetrics } from "@switchyard/observability";
import { createParticipants, type LinkState, type Participants, participantTools } from "@switchyard/participants";
import type { Redis } from "@switchyard/redis";
import type { TaskService } from "@switchyard/tasks";
import { ParticipantKeyLookup } from "./participant-keys.js";

export interface ParticipantTooling {
  participants: Participants;
  /** The participant OrchestrationTools: served under /api/v1/participants and meant for /mcp. */
  tools: OrchestrationTool[];
  keys: ParticipantKeyLookup;
}

/** Builds the participant stores, their tools and the key lookup for the api. */
export function createParticipantTooling(options: {
  config: SwitchyardConfig;
  redis: Redis;
  logger: Logger;
  tasks: TaskService;
  metrics?: SwitchyardMetrics;
  /** Status of a workflow run (`pending|running|completed|failed|cancelled`), for goal roll-ups. */
  runStatus?: (tenant: string, runId: string) => Promise<string | undefined>;
}): ParticipantTooling {
  const { config, tasks } = options;
  const participants = createParticipants({
    redis: options.redis,
    prefix: config.redis.prefix,
    settings: config.participants,
    logger: options.logger,
    // REST tasks linked to goals roll up through the task service, workflow runs through
    // `runStatus` (the workflow service's run lookup) when the api has one.
    resolveLink: async (tenant, kind, id): Promise<LinkState> => {
      if (kind === "run") return linkState(await options.runStatus?.(tenant, id).catch(() => undefined));
      if (kind !== "task") return "unknown";
      const task = await tasks.get({ tenant, key_id: "participants" }, id).catch(() => undefined);
      return linkState(task?.status);
    },
  });
  const keys = new ParticipantKeyLookup(participants.directory, config.participants.key_cache_ms);
  /** Side effects of this api replica after a tool succeeded. */
  const after: Record<string, (actor: ToolActor, result: unknown) => void> = {
    // This replica stops accepting the key at once; others within `key_cache_ms`.
    deregister_agent: (actor, result) => keys.forget(actor.tenant, (result as { id: string }).id),
    heartbeat: (actor) => options.metrics?.recordParticipantHeartbeat(actor.agent_id ?? "unknown"),
  };
  const tools = participantTools(participants).map((tool): OrchestrationTool => {
    const hook = after[tool.name];
    if (!hook) return tool;
    return {
      ...tool,
      handler: async (actor, input, signal) => {
        const result = await tool.handler(actor, input, signal);
        hook(actor, result);
        return result;
      },
    };
  });
  return { participants, tools, keys };
}

/** A task's or run's status as a goal link state. */
function linkState(status: string | undefined): LinkState {
  switch (status) {
    case undefined:
      return "unknown";
    case "completed":
      return "completed";
    case "failed":
    case "cancelled":
      return "failed";
    default:
      return "active";
  }
}
