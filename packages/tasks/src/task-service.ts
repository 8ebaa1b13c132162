import type { SwitchyardConfig } from "@switchyard/config";
import {
  ID_PATTERN,
  NonRetryableError,
  type SubmitTaskRequest,
  type SubmitTaskResponse,
  type TaskJobData,
  type TaskView,
} from "@switchyard/core";
import { newTaskId, type TaskQueues, taskStatusOf, taskViewOf } from "@switchyard/queue";
import type { CatalogCache, TaskIndex } from "@switchyard/store";
import type { ToolArgumentValidator } from "./tool-arguments.js";
import { agentVisibleTo } from "./visibility.js";

/** Who is acting: the tenant owns what is created; key_id is recorded for audit. */
export interface Actor {
  tenant: string;
  key_id: string;
}

export interface TaskServiceDeps {
  config: SwitchyardConfig;
  queues: TaskQueues;
  index: TaskIndex;
  catalog: CatalogCache;
  validator: ToolArgumentValidator;
}

/** Task operations shared by the REST routes, the MCP façade, workers (agent runs) and workflows. */
export class TaskService {
  constructor(private readonly deps: TaskServiceDeps) {}

  async submit(principal: Actor, request: SubmitTaskRequest): Promise<SubmitTaskResponse> {
    const { config, queues, index, catalog, validator } = this.deps;
    const agent = request.agent_name;
    const agentConfig = config.agents[agent];
    // Validate against the published catalog. An agent no worker has published yet (still
    // starting) is accepted: its task waits in the queue and the worker checks the tool.
    const entry = await catalog.entry(agent);
    if (!agentVisibleTo(config, agent, principal.tenant, entry))
      throw new NonRetryableError("AGENT_NOT_FOUND", `no agent named '${agent}'`);
    if (entry) {
      const tool = entry.tools.find((t) => t.name === request.tool_name);
      if (!tool) throw new NonRetryableError("TOOL_NOT_FOUND", `agent '${agent}' has no tool '${request.tool_name}'`);
      validator.validate(`${agent}.${request.tool_name}`, tool.input_schema, request.arguments);
    }
    const taskId = newTaskId();
    const priority = request.priority ?? 1;
    const data: TaskJobData = {
      v: 1,
      task_id: taskId,
      tenant: principal.tenant,
      agent,
      tool: request.tool_name,
      arguments: request.arguments,
      timeout_ms: request.timeout_ms ?? agentConfig?.timeout_ms ?? entry?.timeout_ms ?? config.limits.task_timeout_ms,
      priority,
      created_at: Date.now(),
      submitted_by: principal.key_id,
    };
    // Index first: if the enqueue then fails the client gets an error and the index entry points
    // at nothing (reads treat it as absent); the reverse order could lose track of a real task.
    await index.record(principal.tenant, taskId, agent);
    await queues.enqueue(data, {
      priority,
      maxAttempts: request.max_attempts ?? agentConfig?.max_attempts ?? entry?.max_attempts ?? config.limits.max_attempts,
      backoffMs: config.limits.backoff_ms,
      retentionSeconds: config.limits.retention_seconds,
      retentionCount: config.limits.retention_count,
    });
    return { task_id: taskId, status: "queued" };
  }

  async get(principal: Actor, taskId: string): Promise<TaskView> {
    const view = await this.find(principal, taskId);
    if (!view) throw new NonRetryableError("TASK_NOT_FOUND", `no task ${taskId}`);
    return view;
  }

  /** Newest first; `cursor` is the last task id of the previous page. */
  async list(
    principal: Actor,
    query: { limit: number; cursor?: string | undefined; agent?: string | undefined; status?: string | undefined },
  ) {
    const tasks: TaskView[] = [];
    let cursor = query.cursor;
    // Filters can thin out pages; read ahead a bounded number of index pages to fill one.
    for (let round = 0; round < 10 && tasks.length < query.limit; round++) {
      const page = await this.deps.index.page(principal.tenant, query.limit, cursor);
      const views = await Promise.all(page.ids.map((id) => this.find(principal, id)));
      for (const view of views) {
        if (!view || (query.agent && view.agent_name !== query.agent) || (query.status && view.status !== query.status)) continue;
        if (tasks.length < query.limit) tasks.push(view);
      }
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    const last = tasks.at(-1);
    // A full page continues after its last task; a short one after the last id scanned, if any.
    return { tasks, next_cursor: tasks.length === query.limit && last ? last.task_id : (cursor ?? null) };
  }

  private async find(principal: Actor, taskId: string): Promise<TaskView | undefined> {
    if (!ID_PATTERN.test(taskId)) return undefined;
    const agent = await this.deps.index.agentOf(principal.tenant, taskId);
    if (!agent) return undefined;
    // State first, then the job: a job read after a final state is final too. (The other order
    // can see a job that finished between the reads as completed without its result.)
    const state = await this.deps.queues.get(agent).getJobState(taskId);
    const job = await this.deps.queues.getJob(agent, taskId);
    // Another tenant's id is indistinguishable from a missing one.
    if (!job || job.data.tenant !== principal.tenant) return undefined;
    const status = taskStatusOf(state, job.failedReason);
    return status ? taskViewOf(job, status) : undefined;
  }
}
