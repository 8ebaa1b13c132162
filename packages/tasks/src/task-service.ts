import { createHash } from "node:crypto";
import type { SwitchyardConfig } from "@switchyard/config";
import {
  ID_PATTERN,
  NonRetryableError,
  RetryableError,
  type SubmitTaskRequest,
  type SubmitTaskResponse,
  type TaskCancelRequest,
  type TaskJobData,
  TaskView,
} from "@switchyard/core";
import { newTaskId, type TaskJob, type TaskQueues, taskStatusOf, taskViewOf } from "@switchyard/queue";
import type { AdmitResult, CatalogCache, Keys, StartedProbe, TaskAdmission, TaskIndex, TaskTombstones } from "@switchyard/store";
import type { Redis } from "ioredis";
import type { AgentDirectory } from "./agent-directory.js";
import type { Scheduler } from "./scheduler.js";
import type { ToolArgumentValidator } from "./tool-arguments.js";

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
  agents: AgentDirectory;
  scheduler: Scheduler;
  admission: TaskAdmission;
  tombstones: TaskTombstones;
  /** Publishes cancel requests to workers. */
  redis: Redis;
  keys: Keys;
}

export interface SubmitOptions {
  /** From the Idempotency-Key header; the body's `idempotency_key` is used when absent. */
  idempotencyKey?: string | undefined;
  /**
   * The new task's id, chosen by the caller (who may start listening for its events before it
   * exists). Must be a fresh `newTaskId()`; a replayed submission answers with the earlier id.
   */
  taskId?: string | undefined;
}

export type SubmitResult = SubmitTaskResponse & { replayed: boolean };

export type CancelResult = { outcome: "cancelled"; task: TaskView } | { outcome: "requested"; task: TaskView };

const FINAL = new Set(["completed", "failed", "cancelled"]);

/** Task operations shared by the REST routes, the MCP façade, workers (agent runs) and workflows. */
export class TaskService {
  constructor(private readonly deps: TaskServiceDeps) {}

  /**
   * Enqueues a task. One round trip on the hot path: a MULTI holding the admission script
   * (idempotency + quota + index) and BullMQ's add of the job; the agent set and the tool catalog
   * are served from memory.
   */
  async submit(principal: Actor, request: SubmitTaskRequest, options: SubmitOptions = {}): Promise<SubmitResult> {
    const { config, queues, catalog, validator, agents, admission } = this.deps;
    const agent = request.agent_name ?? (await this.deps.scheduler.pick(request.capability ?? "", principal.tenant, request.tool_name));
    const effective = await agents.find(agent, principal.tenant);
    if (!effective) throw new NonRetryableError("AGENT_NOT_FOUND", `no agent named '${agent}'`);
    const agentConfig = effective.config;
    // Validate against the published catalog. An agent no worker has published yet (still
    // starting) is accepted: its task waits in the queue and the worker checks the tool.
    const entry = await catalog.entry(agent);
    if (entry) {
      const tool = entry.tools.find((t) => t.name === request.tool_name);
      if (!tool) throw new NonRetryableError("TOOL_NOT_FOUND", `agent '${agent}' has no tool '${request.tool_name}'`);
      validator.validate(`${agent}.${request.tool_name}`, tool.input_schema, request.arguments);
    }
    const idempotencyKey = options.idempotencyKey ?? request.idempotency_key;
    if (options.taskId !== undefined && !ID_PATTERN.test(options.taskId)) throw new Error("submit: taskId is not a task id");
    const taskId = options.taskId ?? newTaskId();
    const priority = request.priority ?? 1;
    const { idempotency_key: _, ...significant } = request;
    const admit = {
      tenant: principal.tenant,
      taskId,
      agent,
      idempotencyKeyHash: idempotencyKey ? sha256(idempotencyKey) : undefined,
      // Only an Idempotency-Key's record keeps it (to tell a replay from a different request).
      requestHash: idempotencyKey ? sha256(JSON.stringify(significant)).slice(0, 32) : "",
      idempotencyWindowSeconds: config.limits.idempotency_window_seconds,
      quota: config.limits.tenant_queued_tasks,
      quotaHorizonSeconds: config.limits.retention_seconds,
    };
    const data: TaskJobData = {
      v: 1,
      task_id: taskId,
      tenant: principal.tenant,
      agent,
      tool: request.tool_name,
      arguments: request.arguments,
      timeout_ms: request.timeout_ms ?? agentConfig.timeout_ms ?? entry?.timeout_ms ?? config.limits.task_timeout_ms,
      priority,
      created_at: Date.now(),
      submitted_by: principal.key_id,
    };
    const policy = {
      priority,
      maxAttempts: request.max_attempts ?? agentConfig.max_attempts ?? entry?.max_attempts ?? config.limits.max_attempts,
      backoffMs: config.limits.backoff_ms,
      retentionSeconds: config.limits.retention_seconds,
      retentionCount: config.limits.retention_count,
    };
    // Admission and the job's add in one round trip; a refused admission vetoes the add.
    let admitted: AdmitResult;
    try {
      ({ admission: admitted } = await admission.admitAndAdd(
        admit,
        queues.jobKey(agent, taskId),
        () => queues.transaction(agent),
        (tx) => queues.addTo(tx, data, policy),
      ));
    } catch (error) {
      if ((error as { addedUnadmitted?: boolean }).addedUnadmitted)
        await queues
          .get(agent)
          .remove(taskId)
          .catch(() => {});
      // The index entry may point at nothing (reads treat it as absent); free the key and quota.
      await admission.forget(admit).catch(() => {});
      throw error;
    }
    if (admitted.kind === "duplicate") {
      if (admitted.requestHash !== admit.requestHash)
        throw new NonRetryableError("CONFLICT", "this Idempotency-Key was already used for a different request", {
          details: { task_id: admitted.taskId },
        });
      const existing = await this.find(principal, admitted.taskId);
      return {
        task_id: admitted.taskId,
        status: existing?.status ?? "queued",
        agent_name: existing?.agent_name ?? agent,
        replayed: true,
      };
    }
    if (admitted.kind === "over_quota")
      throw new RetryableError("RATE_LIMITED", `tenant has ${admitted.queued} queued tasks (quota ${admit.quota})`, {
        retryAfterMs: 1_000,
        details: { quota: admit.quota, queued: admitted.queued },
      });
    return { task_id: taskId, status: "queued", agent_name: agent, replayed: false };
  }

  async get(principal: Actor, taskId: string): Promise<TaskView> {
    const view = await this.find(principal, taskId);
    if (!view) throw new NonRetryableError("TASK_NOT_FOUND", `no task ${taskId}`);
    return view;
  }

  /** The agent queue holding a task the tenant owns (404 otherwise). */
  async agentOf(principal: Actor, taskId: string): Promise<string> {
    const agent = ID_PATTERN.test(taskId) ? await this.deps.index.agentOf(principal.tenant, taskId) : undefined;
    if (!agent) throw new NonRetryableError("TASK_NOT_FOUND", `no task ${taskId}`);
    return agent;
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

  /**
   * Cancels a task. A queued one is removed from its queue at once and keeps a `cancelled`
   * record; a running one is aborted by its worker (asked over the cancel channel) and ends
   * `cancelled` shortly after. A finished task cannot be cancelled (409).
   */
  async cancel(principal: Actor, taskId: string): Promise<CancelResult> {
    const agent = await this.agentOf(principal, taskId);
    const job = await this.deps.queues.getJob(agent, taskId);
    if (!job || job.data.tenant !== principal.tenant) {
      const ended = await this.find(principal, taskId);
      if (!ended) throw new NonRetryableError("TASK_NOT_FOUND", `no task ${taskId}`);
      throw new NonRetryableError("CONFLICT", `task already ${ended.status}`, { details: { status: ended.status } });
    }
    const status = taskStatusOf(await job.getState(), job.failedReason);
    if (!status) throw new NonRetryableError("TASK_NOT_FOUND", `no task ${taskId}`);
    if (FINAL.has(status)) throw new NonRetryableError("CONFLICT", `task already ${status}`, { details: { status } });
    if (status === "queued") {
      const ended = await this.endWithoutRunning(principal.tenant, agent, job, "cancelled", {
        code: "CANCELLED",
        message: "cancelled by request",
      });
      if (ended) return { outcome: "cancelled", task: ended };
      // It started meanwhile: cancel it as a running task.
    }
    const message: TaskCancelRequest = { agent, task_id: taskId };
    await this.deps.redis.publish(this.deps.keys.cancelChannel(), JSON.stringify(message));
    return { outcome: "requested", task: taskViewOf(job, "running") };
  }

  /**
   * Moves or fails the queued tasks of a removed agent: each goes to another live agent sharing a
   * capability and offering the same tool, or fails with AGENT_REMOVED. The queue is paused first
   * so no worker starts more of its tasks; running ones finish.
   */
  async drainRemovedAgent(agent: string, capabilities: readonly string[]): Promise<{ moved: number; failed: number }> {
    const queue = this.deps.queues.get(agent);
    await queue.pause();
    const live = await this.deps.catalog.live();
    const all = await this.deps.agents.all();
    const alternatives = [...all.values()].filter(
      (other) => other.name !== agent && other.config.capabilities.some((c) => capabilities.includes(c)) && live.has(other.name),
    );
    let moved = 0;
    let failed = 0;
    for (;;) {
      const jobs = (await queue.getJobs(["waiting", "prioritized", "delayed"], 0, 499)) as TaskJob[];
      if (jobs.length === 0) break;
      let progressed = 0;
      for (const job of jobs) {
        if (!job) continue;
        const data = job.data;
        const target = alternatives.find(
          (other) =>
            (!other.config.tenants || other.config.tenants.includes(data.tenant)) &&
            live.get(other.name)?.tools.some((tool) => tool.name === data.tool),
        );
        if (target) {
          const removed = await job.remove().then(
            () => true,
            () => false,
          );
          if (!removed) continue;
          await this.deps.queues.get(target.name).add(data.tool, { ...data, agent: target.name }, job.opts);
          await this.deps.redis.hset(this.deps.keys.tenantTasks(data.tenant), data.task_id, target.name);
          await this.deps.admission.dequeued(data.tenant, agent, data.task_id);
          moved++;
          progressed++;
        } else if (
          await this.endWithoutRunning(data.tenant, agent, job, "failed", {
            code: "AGENT_REMOVED",
            message: `agent '${agent}' was removed`,
          })
        ) {
          failed++;
          progressed++;
        }
      }
      if (progressed === 0) break;
    }
    return { moved, failed };
  }

  /** Writes the final record, then removes the job; undefined when the job was already locked. */
  private async endWithoutRunning(
    tenant: string,
    agent: string,
    job: TaskJob,
    status: "cancelled" | "failed",
    error: { code: string; message: string },
  ): Promise<TaskView | undefined> {
    const view: TaskView = { ...taskViewOf(job, "queued"), status, error, finished_at: new Date().toISOString() };
    const ttl = this.deps.config.limits.retention_seconds;
    await this.deps.tombstones.put(tenant, job.data.task_id, view, ttl);
    try {
      await job.remove();
    } catch {
      // Locked by a worker: it is running now, so it is not ended here.
      await this.deps.redis.del(this.deps.keys.taskTombstone(tenant, job.data.task_id));
      return undefined;
    }
    await this.deps.admission.dequeued(tenant, agent, job.data.task_id).catch(() => {});
    return view;
  }

  private async find(principal: Actor, taskId: string): Promise<TaskView | undefined> {
    if (!ID_PATTERN.test(taskId)) return undefined;
    const agent = await this.deps.index.agentOf(principal.tenant, taskId);
    if (!agent) return undefined;
    // State first, then the job: a job read after a final state is final too. (The other order
    // can see a job that finished between the reads as completed without its result.)
    const state = await this.deps.queues.get(agent).getJobState(taskId);
    const job = await this.deps.queues.getJob(agent, taskId);
    if (!job) {
      // Ended without its job (cancelled while queued, agent removed)?
      const parsed = TaskView.safeParse(await this.deps.tombstones.get(principal.tenant, taskId));
      return parsed.success ? parsed.data : undefined;
    }
    // Another tenant's id is indistinguishable from a missing one.
    if (job.data.tenant !== principal.tenant) return undefined;
    const status = taskStatusOf(state, job.failedReason);
    return status ? taskViewOf(job, status) : undefined;
  }
}

/**
 * For the queued-task quota: whether each task has left the queued state (started, finished or
 * gone). One pipelined round trip.
 */
export function startedProbe(redis: Redis, queues: TaskQueues): StartedProbe {
  return async (entries) => {
    const pipeline = redis.pipeline();
    for (const { agent, taskId } of entries) {
      const key = queues.get(agent).toKey(taskId);
      pipeline.hmget(key, "processedOn", "finishedOn").exists(key);
    }
    const results = (await pipeline.exec()) ?? [];
    return entries.map((_, i) => {
      const [fieldsError, fields] = results[2 * i] ?? [null, null];
      const [existsError, exists] = results[2 * i + 1] ?? [null, null];
      if (fieldsError || existsError) return false;
      const [processedOn, finishedOn] = (fields as Array<string | null>) ?? [];
      return exists === 0 || Boolean(processedOn || finishedOn);
    });
  };
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
