import type { Logger } from "@switchyard/observability";
import type { Redis } from "@switchyard/redis";
import { Collaboration } from "./collaboration.js";
import type { ParticipantContext, ParticipantSettings } from "./context.js";
import { DelegationGraph } from "./delegation-graph.js";
import { AgentDirectory } from "./directory.js";
import { CoordinationEvents } from "./events.js";
import { FileLocks } from "./file-locks.js";
import { type LinkResolver, type LinkState, ProjectsAndGoals } from "./goals.js";
import { Inboxes } from "./inboxes.js";
import { ParticipantKeys } from "./keys.js";
import { WorkBoard } from "./work-board.js";

export interface ParticipantsOptions {
  redis: Redis;
  /** `redis.prefix` from config. */
  prefix: string;
  settings: ParticipantSettings;
  logger: Logger;
  /**
   * States of REST tasks and workflow runs linked to goals. Participant tasks are resolved here;
   * anything else is `unknown` without a resolver.
   */
  resolveLink?: LinkResolver;
  now?: () => number;
}

/** Every participant store on one Redis client: what the tools, the api and the coordinator use. */
export interface Participants {
  ctx: ParticipantContext;
  keys: ParticipantKeys;
  events: CoordinationEvents;
  directory: AgentDirectory;
  graph: DelegationGraph;
  work: WorkBoard;
  inboxes: Inboxes;
  locks: FileLocks;
  collaboration: Collaboration;
  goals: ProjectsAndGoals;
}

export function createParticipants(options: ParticipantsOptions): Participants {
  const keys = new ParticipantKeys(options.prefix);
  const logger = options.logger;
  const events = new CoordinationEvents(options.redis, keys, logger);
  const ctx: ParticipantContext = {
    redis: options.redis,
    keys,
    settings: options.settings,
    logger,
    events,
    now: options.now ?? Date.now,
  };
  const directory = new AgentDirectory(ctx);
  const graph = new DelegationGraph(ctx);
  const work = new WorkBoard(ctx, directory, graph);
  const resolve: LinkResolver = async (tenant, kind, id) => {
    if (kind === "participant_task") return taskState(await work.status(tenant, id).catch(() => undefined));
    return options.resolveLink ? options.resolveLink(tenant, kind, id) : "unknown";
  };
  return {
    ctx,
    keys,
    events,
    directory,
    graph,
    work,
    inboxes: new Inboxes(ctx, directory),
    locks: new FileLocks(ctx),
    collaboration: new Collaboration(ctx, directory),
    goals: new ProjectsAndGoals(ctx, resolve),
  };
}

function taskState(status: string | undefined): LinkState {
  switch (status) {
    case "completed":
      return "completed";
    case "failed":
      return "failed";
    case "pending":
    case "claimed":
      return "active";
    default:
      return "unknown";
  }
}
