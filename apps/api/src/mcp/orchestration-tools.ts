import type { SwitchyardConfig } from "@switchyard/config";
import {
  AgentName,
  CancelledError,
  defineTool,
  type OrchestrationTool,
  SubmitTaskRequest,
  TaskArguments,
  ToolName,
} from "@switchyard/core";
import type { CatalogCache } from "@switchyard/store";
import { agentVisibleTo, type TaskCalls, type TaskService } from "@switchyard/tasks";
import { z } from "zod";

export interface CoreToolDeps {
  config: SwitchyardConfig;
  catalog: CatalogCache;
  tasks: TaskService;
  calls: TaskCalls;
}

/** `list_agents`, `submit_task`, `get_task`: the task API as MCP tools. */
export function coreOrchestrationTools(deps: CoreToolDeps): OrchestrationTool[] {
  const listAgents = defineTool({
    name: "list_agents",
    description: "Lists the agents this key may use, whether a worker serves them, and their tool counts.",
    input: z.strictObject({}),
    role: "viewer",
    readOnly: true,
    handler: async (actor) => {
      const live = await deps.catalog.live();
      const names = new Set([...Object.keys(deps.config.agents), ...live.keys()]);
      const agents = [...names]
        .sort()
        .filter((name) => agentVisibleTo(deps.config, name, actor.tenant, live.get(name)))
        .map((name) => {
          const entry = live.get(name);
          const configured = deps.config.agents[name];
          return {
            name,
            type: configured?.type ?? entry?.agent_type ?? "unknown",
            description: configured?.description ?? entry?.description ?? "",
            status: entry ? "available" : "offline",
            tools: entry?.tools.map((tool) => tool.name) ?? [],
            workers: entry?.workers ?? 0,
          };
        });
      return { agents };
    },
  });

  const submitTask = defineTool({
    name: "submit_task",
    description:
      "Queues a call of one agent tool. With `wait: true` it waits (up to `wait_timeout_ms`) and returns the finished task; otherwise it returns the task id at once (see get_task).",
    input: z.strictObject({
      agent_name: AgentName,
      tool_name: ToolName,
      arguments: TaskArguments.default({}),
      priority: SubmitTaskRequest.shape.priority,
      timeout_ms: SubmitTaskRequest.shape.timeout_ms,
      max_attempts: SubmitTaskRequest.shape.max_attempts,
      wait: z.boolean().default(false),
      wait_timeout_ms: z.number().int().min(1).max(600_000).default(60_000),
    }),
    role: "operator",
    handler: async (actor, input, signal) => {
      const { wait, wait_timeout_ms, ...request } = input;
      if (!wait) return deps.tasks.submit(actor, request);
      const { created } = await deps.calls.call(actor, request, { waitMs: wait_timeout_ms, signal });
      if (signal?.aborted) throw new CancelledError("stopped waiting for the task");
      // The whole record (status, result or error, attempts), finished or still running.
      return deps.tasks.get(actor, created.task_id);
    },
  });

  const getTask = defineTool({
    name: "get_task",
    description: "Reads a task: status, result or error, attempts.",
    input: z.strictObject({ task_id: z.string().min(1).max(64) }),
    role: "viewer",
    readOnly: true,
    handler: (actor, input) => deps.tasks.get(actor, input.task_id),
  });

  return [listAgents, submitTask, getTask] as OrchestrationTool[];
}
