import type { SwitchyardConfig } from "@switchyard/config";
import type { TaskQueues } from "@switchyard/queue";
import { AgentRegistry, type CatalogCache, type Keys, TaskAdmission, TaskIndex, TaskTombstones } from "@switchyard/store";
import type { Redis } from "ioredis";
import { AgentDirectory } from "./agent-directory.js";
import { Scheduler, type SchedulerDeps } from "./scheduler.js";
import { startedProbe, TaskService } from "./task-service.js";
import { ToolArgumentValidator } from "./tool-arguments.js";

export interface CreateTaskServiceOptions {
  config: SwitchyardConfig;
  /** A command connection (not blocking, not a subscriber). */
  redis: Redis;
  keys: Keys;
  queues: TaskQueues;
  catalog: CatalogCache;
  /** Defaults to config ∪ the Redis agent registry. */
  agents?: AgentDirectory;
  isAvailable?: SchedulerDeps["isAvailable"];
}

/** A TaskService with everything it needs, for the api, workers (child tasks) and the workflow engine. */
export function createTaskService(options: CreateTaskServiceOptions): { tasks: TaskService; agents: AgentDirectory; scheduler: Scheduler } {
  const { config, redis, keys, queues, catalog } = options;
  const agents = options.agents ?? new AgentDirectory(config, new AgentRegistry(redis, keys), catalog);
  const scheduler = new Scheduler({ agents, catalog, queues, ...(options.isAvailable ? { isAvailable: options.isAvailable } : {}) });
  const tasks = new TaskService({
    config,
    queues,
    index: new TaskIndex(redis, keys),
    catalog,
    validator: new ToolArgumentValidator(),
    agents,
    scheduler,
    // On the queues' connection: admission runs in the same MULTI as the job's add.
    admission: new TaskAdmission(queues.connection, keys, startedProbe(redis, queues)),
    tombstones: new TaskTombstones(redis, keys),
    redis,
    keys,
  });
  return { tasks, agents, scheduler };
}
