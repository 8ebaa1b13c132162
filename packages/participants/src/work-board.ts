import { NonRetryableError, newId, SwitchyardError, type ToolActor } from "@switchyard/core";
import type { z } from "zod";
import { actorLabel, iso, type ParticipantContext, pause } from "./context.js";
import type { DelegationGraph } from "./delegation-graph.js";
import type { AgentDirectory } from "./directory.js";
import { type DelegateSubtaskInput, type ListTasksInput, type ParticipantTask, ParticipantTaskStatus, TaskError } from "./schemas.js";
import { claimTask, expireTask, finishTask, reassignPending } from "./scripts.js";

/** How many pending tasks one claim looks at (the oldest first). */
const CLAIM_SCAN = 500;
/** Long-polls re-check this often; keyspace-free, so no notifications need enabling. */
const POLL_MS = 100;

interface TaskSpec {
  title: string;
  description: string;
  input: Record<string, unknown>;
  delegated_by: string;
  parent_task_id: string | null;
  deadline: string | null;
  created_at: string;
}

export interface ReturnedWork {
  task_id: string;
  /** The agent it now waits for, or null when any capable agent may claim it. */
  assignee: string | null;
}

/**
 * Work for participant agents. A task is a Redis hash; claimable ones sit in a per-tenant FIFO
 * sorted set; each agent's claims in a set (its limit is that set's size). Claims, completions
 * and returns are Lua scripts, so a task is never held by two agents and a late report from an
 * agent whose task was taken back is refused.
 *
 * Not BullMQ: a participant pulls work by capability or by being named, from outside any
 * worker, and dead agents are detected by their heartbeat, not a job lock — BullMQ's fetch has
 * no selective "next job matching X".
 */
export class WorkBoard {
  constructor(
    private readonly ctx: ParticipantContext,
    private readonly directory: AgentDirectory,
    private readonly graph: DelegationGraph,
  ) {}

  async delegate(actor: ToolActor, input: z.infer<typeof DelegateSubtaskInput>): Promise<ParticipantTask> {
    const { redis, keys } = this.ctx;
    const tenant = actor.tenant;
    if (input.assignee) await this.directory.require(tenant, input.assignee);
    if (input.parent_task_id) await this.get(tenant, input.parent_task_id);
    const now = this.ctx.now();
    const id = newId("ptk", now);
    const spec: TaskSpec = {
      title: input.title,
      description: input.description,
      input: input.input,
      delegated_by: actorLabel(actor),
      parent_task_id: input.parent_task_id ?? null,
      deadline: input.deadline ? iso(Date.parse(input.deadline)) : null,
      created_at: iso(now),
    };
    const seq = await redis.incr(keys.pendingSeq(tenant));
    const tx = redis
      .multi()
      .sadd(keys.tenants(), tenant)
      .hset(keys.task(tenant, id), {
        spec: JSON.stringify(spec),
        status: "pending",
        assignee: input.assignee ?? "",
        capabilities: JSON.stringify([...new Set(input.capabilities)].sort()),
        claimed_by: "",
        attempts: 0,
        updated_at: String(now),
      })
      .zadd(keys.allTasks(tenant), now, id)
      .zadd(keys.pending(tenant), seq, id);
    if (input.parent_task_id) tx.sadd(keys.children(tenant, input.parent_task_id), id);
    if (spec.deadline) tx.zadd(keys.deadlines(tenant), Date.parse(spec.deadline), id);
    await tx.exec();
    await this.ctx.events.emit(tenant, "task.delegated", {
      task_id: id,
      by: spec.delegated_by,
      assignee: input.assignee ?? null,
      parent_task_id: spec.parent_task_id,
    });
    if (input.assignee && input.parent_task_id) await this.recordWait(tenant, id, input.parent_task_id, input.assignee);
    return this.get(tenant, id);
  }

  /** Takes the oldest task this agent may do, waiting up to `waitMs`; null when none came. */
  async claim(tenant: string, agentId: string, waitMs: number, signal?: AbortSignal): Promise<ParticipantTask | null> {
    const { redis, keys, settings } = this.ctx;
    const agent = await this.directory.require(tenant, agentId);
    const deadline = this.ctx.now() + Math.min(waitMs, settings.max_wait_ms);
    for (;;) {
      const reply = (await claimTask.run(
        redis,
        [keys.pending(tenant), keys.claimed(tenant, agentId)],
        [agentId, JSON.stringify(agent.capabilities), agent.limits.max_claimed_tasks, this.ctx.now(), keys.taskPrefix(tenant), CLAIM_SCAN],
      )) as [number, string?];
      if (reply[0] === 1 && reply[1]) {
        const task = await this.get(tenant, reply[1]);
        if (task.parent_task_id) await this.recordWait(tenant, task.task_id, task.parent_task_id, agentId);
        return task;
      }
      if (reply[0] === -1)
        throw new SwitchyardError(
          "RATE_LIMITED",
          `agent '${agentId}' already holds ${reply[1]} claimed tasks (limit ${agent.limits.max_claimed_tasks})`,
          { details: { held: reply[1], limit: agent.limits.max_claimed_tasks }, retryAfterMs: 1_000 },
        );
      const left = deadline - this.ctx.now();
      if (left <= 0 || signal?.aborted) return null;
      await pause(Math.min(POLL_MS, left), signal);
    }
  }

  async complete(tenant: string, agentId: string, taskId: string, result: unknown): Promise<ParticipantTask> {
    await this.finish(tenant, agentId, taskId, "completed", result === undefined ? "" : JSON.stringify(result), "");
    return this.get(tenant, taskId);
  }

  async fail(tenant: string, agentId: string, taskId: string, error: z.infer<typeof TaskError>, retry: boolean): Promise<ParticipantTask> {
    await this.finish(tenant, agentId, taskId, retry ? "pending" : "failed", "", JSON.stringify(error));
    return this.get(tenant, taskId);
  }

  async get(tenant: string, taskId: string): Promise<ParticipantTask> {
    const { redis, keys } = this.ctx;
    const [fields, children] = await Promise.all([redis.hgetall(keys.task(tenant, taskId)), redis.smembers(keys.children(tenant, taskId))]);
    const task = fromHash(taskId, fields);
    if (!task) throw new NonRetryableError("TASK_NOT_FOUND", `no participant task '${taskId}'`);
    if (children.length > 0) {
      const pipeline = redis.pipeline();
      for (const child of children) pipeline.hget(keys.task(tenant, child), "status");
      const statuses = (await pipeline.exec()) ?? [];
      task.children = children
        .map((child, i) => ({ task_id: child, status: ParticipantTaskStatus.catch("failed").parse(statuses[i]?.[1]) }))
        .sort((a, b) => a.task_id.localeCompare(b.task_id));
    }
    return task;
  }

  /** Status of a task without its children, or undefined (goal roll-ups). */
  async status(tenant: string, taskId: string): Promise<ParticipantTask["status"] | undefined> {
    const status = await this.ctx.redis.hget(this.ctx.keys.task(tenant, taskId), "status");
    const parsed = ParticipantTaskStatus.safeParse(status);
    return parsed.success ? parsed.data : undefined;
  }

  async list(tenant: string, filter: z.infer<typeof ListTasksInput>): Promise<ParticipantTask[]> {
    const { redis, keys } = this.ctx;
    const ids = filter.parent_task_id
      ? await redis.smembers(keys.children(tenant, filter.parent_task_id))
      : filter.claimed_by
        ? await redis.smembers(keys.claimed(tenant, filter.claimed_by))
        : await redis.zrevrange(keys.allTasks(tenant), 0, 4_999);
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.task(tenant, id));
    const rows = (await pipeline.exec()) ?? [];
    const tasks: ParticipantTask[] = [];
    ids.forEach((id, i) => {
      const task = fromHash(id, (rows[i]?.[1] ?? {}) as Record<string, string>);
      if (task && (filter.status === undefined || task.status === filter.status)) tasks.push(task);
    });
    return tasks.sort((a, b) => b.task_id.localeCompare(a.task_id)).slice(0, filter.limit);
  }

  /**
   * Gives back the work of an agent that went offline: its claimed tasks return to the pending
   * queue, and tasks that were delegated to it by name go to another live agent with the
   * capabilities they need (or to any capable agent when there is none).
   */
  async returnWork(tenant: string, agentId: string): Promise<ReturnedWork[]> {
    const { redis, keys } = this.ctx;
    const returned: ReturnedWork[] = [];
    for (const taskId of await redis.smembers(keys.claimed(tenant, agentId))) {
      const task = await this.get(tenant, taskId).catch(() => undefined);
      if (!task) {
        await redis.srem(keys.claimed(tenant, agentId), taskId);
        continue;
      }
      const assignee = task.assignee === agentId ? await this.pickAssignee(tenant, task, agentId) : undefined;
      const now = this.ctx.now();
      const reply = await finishTask.run(
        redis,
        [keys.task(tenant, taskId), keys.claimed(tenant, agentId), keys.pending(tenant), keys.pendingSeq(tenant)],
        [taskId, agentId, "pending", now, "", "", assignee === undefined ? "-" : (assignee ?? "")],
      );
      if (reply !== 1) continue;
      await this.graph.remove(tenant, taskId);
      const nowAssignee = assignee === undefined ? task.assignee : assignee;
      returned.push({ task_id: taskId, assignee: nowAssignee });
      await this.ctx.events.emit(tenant, nowAssignee && nowAssignee !== agentId ? "task.redelegated" : "task.returned", {
        task_id: taskId,
        from: agentId,
        assignee: nowAssignee,
      });
    }
    // Tasks delegated to it by name that it never claimed.
    for (const taskId of await redis.zrange(keys.pending(tenant), "0", "-1")) {
      if ((await redis.hget(keys.task(tenant, taskId), "assignee")) !== agentId) continue;
      const task = await this.get(tenant, taskId).catch(() => undefined);
      if (!task) continue;
      const assignee = await this.pickAssignee(tenant, task, agentId);
      const reply = await reassignPending.run(redis, [keys.task(tenant, taskId)], [agentId, assignee ?? "", this.ctx.now()]);
      if (reply !== 1) continue;
      returned.push({ task_id: taskId, assignee });
      await this.ctx.events.emit(tenant, "task.redelegated", { task_id: taskId, from: agentId, assignee });
    }
    return returned;
  }

  /** Fails tasks whose deadline passed. Returns their ids. */
  async expireDeadlines(tenant: string): Promise<string[]> {
    const { redis, keys } = this.ctx;
    const now = this.ctx.now();
    const due = await redis.zrangebyscore(keys.deadlines(tenant), "-inf", String(now), "LIMIT", 0, 500);
    const expired: string[] = [];
    for (const taskId of due) {
      const error = JSON.stringify({ code: "TIMEOUT", message: "the task's deadline passed before it finished" });
      const reply = await expireTask.run(
        redis,
        [keys.task(tenant, taskId), keys.pending(tenant)],
        [taskId, now, error, keys.claimedPrefix(tenant)],
      );
      await redis.zrem(keys.deadlines(tenant), taskId);
      if (reply === 1) {
        expired.push(taskId);
        await this.graph.remove(tenant, taskId);
        await this.ctx.events.emit(tenant, "task.deadline_expired", { task_id: taskId });
      }
    }
    return expired;
  }

  /** Tasks an agent holds now. */
  async claimedCount(tenant: string, agentId: string): Promise<number> {
    return this.ctx.redis.scard(this.ctx.keys.claimed(tenant, agentId));
  }

  private async pickAssignee(tenant: string, task: ParticipantTask, exclude: string): Promise<string | null> {
    const candidates = await this.directory.find(tenant, {
      capabilities: task.capabilities,
      statuses: ["available", "working", "idle"],
    });
    let best: { id: string; load: number } | undefined;
    for (const agent of candidates) {
      if (agent.id === exclude) continue;
      const load = await this.claimedCount(tenant, agent.id);
      if (load < agent.limits.max_claimed_tasks && (!best || load < best.load)) best = { id: agent.id, load };
    }
    return best?.id ?? null;
  }

  private async finish(
    tenant: string,
    agentId: string,
    taskId: string,
    status: "completed" | "failed" | "pending",
    result: string,
    error: string,
  ) {
    const { redis, keys } = this.ctx;
    const reply = await finishTask.run(
      redis,
      [keys.task(tenant, taskId), keys.claimed(tenant, agentId), keys.pending(tenant), keys.pendingSeq(tenant)],
      [taskId, agentId, status, this.ctx.now(), result, error, "-"],
    );
    switch (reply) {
      case 1:
        await this.graph.remove(tenant, taskId);
        return;
      case -3:
        throw new NonRetryableError("TASK_NOT_FOUND", `no participant task '${taskId}'`);
      case -2:
        throw new NonRetryableError("CONFLICT", `task '${taskId}' is claimed by another agent`);
      default:
        throw new NonRetryableError("CONFLICT", `task '${taskId}' is not claimed by '${agentId}' (it was finished or returned)`);
    }
  }

  /** The agent holding the parent now waits on the subtask's agent. */
  private async recordWait(tenant: string, taskId: string, parentId: string, holder: string): Promise<void> {
    const waiter = await this.ctx.redis.hget(this.ctx.keys.task(tenant, parentId), "claimed_by");
    if (!waiter) return;
    await this.graph.add(tenant, taskId, waiter, holder);
  }
}

function fromHash(taskId: string, fields: Record<string, string>): ParticipantTask | undefined {
  if (!fields.spec || !fields.status) return undefined;
  const spec = JSON.parse(fields.spec) as TaskSpec;
  const finished = fields.finished_at ? iso(Number(fields.finished_at)) : null;
  return {
    task_id: taskId,
    title: spec.title,
    description: spec.description,
    input: spec.input,
    capabilities: JSON.parse(fields.capabilities ?? "[]") as string[],
    assignee: fields.assignee || null,
    delegated_by: spec.delegated_by,
    parent_task_id: spec.parent_task_id,
    deadline: spec.deadline,
    status: ParticipantTaskStatus.parse(fields.status),
    claimed_by: fields.claimed_by || null,
    attempts: Number(fields.attempts ?? 0),
    ...(fields.result !== undefined ? { result: JSON.parse(fields.result) } : {}),
    ...(fields.error !== undefined ? { error: TaskError.parse(JSON.parse(fields.error)) } : {}),
    created_at: spec.created_at,
    updated_at: iso(Number(fields.updated_at ?? Date.parse(spec.created_at))),
    finished_at: finished,
  };
}
