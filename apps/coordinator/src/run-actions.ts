import type { SwitchyardConfig } from "@switchyard/config";
import type { TaskCancelRequest, TaskJobData } from "@switchyard/core";
import type { Logger } from "@switchyard/observability";
import { agentQueueName, COORDINATOR_QUEUE, taskJobOptions } from "@switchyard/queue";
import { Keys } from "@switchyard/store";
import {
  type Action,
  COORDINATOR_JOB_OPTIONS,
  type DispatchAction,
  newRunState,
  type RunEvent,
  type RunState,
  type RunStore,
  WORKFLOW_JOBS,
  type WorkflowJobData,
} from "@switchyard/workflow";
import { type FlowJob, Queue } from "bullmq";
import type { Redis } from "ioredis";

export interface RunActionsDeps {
  config: SwitchyardConfig;
  redis: Redis;
  store: RunStore;
  queue: Queue;
  logger: Logger;
}

/** Actions that travel in the commit's MULTI (BullMQ jobs); the others run after the commit. */
const IN_COMMIT = new Set<Action["type"]>(["dispatch", "dispatch_group", "timer"]);

/**
 * Carries out a transition's actions. The jobs it implies (step flows, timers) become `FlowJob`s
 * that the engine adds in the same transaction as the state commit; everything else (cancels,
 * timer removal, child runs, the parent notification) runs after the commit. All of it is
 * idempotent by job id, so a redelivered event can re-issue it.
 */
export class RunActions {
  private readonly agentQueues = new Map<string, Queue>();

  constructor(private readonly deps: RunActionsDeps) {}

  /** The BullMQ jobs of `actions`, once per job id. */
  async jobsOf(run: RunState, actions: Action[]): Promise<FlowJob[]> {
    const flows: FlowJob[] = [];
    const seen = new Set<string>();
    for (const action of actions) {
      switch (action.type) {
        case "dispatch": {
          const jobId = action.job_id.replace(/^run\./, "done.");
          if (seen.has(jobId)) break;
          seen.add(jobId);
          const child = await this.taskFlow(run, action);
          flows.push({
            name: WORKFLOW_JOBS.step,
            queueName: COORDINATOR_QUEUE,
            data: {
              run_id: run.run_id,
              step_id: action.step_id,
              agent: action.agent,
              ...(action.item !== undefined ? { item: action.item } : {}),
            } satisfies WorkflowJobData,
            opts: { ...COORDINATOR_JOB_OPTIONS, jobId },
            children: [child],
          });
          break;
        }
        case "dispatch_group": {
          if (seen.has(action.parent_job_id)) break;
          seen.add(action.parent_job_id);
          const children = await Promise.all(action.children.map((c) => this.taskFlow(run, c)));
          flows.push({
            name: WORKFLOW_JOBS.step,
            queueName: COORDINATOR_QUEUE,
            data: { run_id: run.run_id, step_id: action.step_id, group: true } satisfies WorkflowJobData,
            opts: { ...COORDINATOR_JOB_OPTIONS, jobId: action.parent_job_id },
            children,
          });
          break;
        }
        case "timer":
          if (seen.has(action.job_id)) break;
          seen.add(action.job_id);
          flows.push({
            name: WORKFLOW_JOBS.event,
            queueName: COORDINATOR_QUEUE,
            data: { run_id: run.run_id, event: action.event } satisfies WorkflowJobData,
            opts: { ...COORDINATOR_JOB_OPTIONS, jobId: action.job_id, delay: action.delay_ms },
          });
          break;
        default:
          break;
      }
    }
    return flows;
  }

  /**
   * The actions that are not jobs of the commit. Events they give rise to for the same run (a
   * sub-workflow that does not exist fails its step) are pushed to `followUps`.
   */
  async afterCommit(run: RunState, actions: Action[], followUps: RunEvent[]): Promise<void> {
    for (const action of actions) {
      if (IN_COMMIT.has(action.type)) continue;
      switch (action.type) {
        case "cancel_jobs":
          await Promise.all(action.job_ids.map((id) => this.cancelJob(id)));
          break;
        case "clear_timers":
          await Promise.all(action.job_ids.map((id) => this.deps.queue.remove(id).catch(() => 0)));
          break;
        case "start_child":
          await this.startChild(run, action, followUps);
          break;
        case "cancel_child":
          await this.deps.queue.add(
            WORKFLOW_JOBS.event,
            { run_id: action.child_run_id, event: { type: "cancel", reason: "parent run ended" } },
            { ...COORDINATOR_JOB_OPTIONS, jobId: `cancel.${action.child_run_id}` },
          );
          break;
        case "context_write":
          // Written before the commit (see the engine).
          break;
        case "finished":
          if (run.parent) await this.notifyParent(run);
          this.deps.logger.debug({ run_id: run.run_id, status: action.status }, "run finished");
          break;
        default:
          break;
      }
    }
  }

  private async notifyParent(run: RunState): Promise<void> {
    if (!run.parent) return;
    const where = { step_id: run.parent.step_id, ...(run.parent.item !== undefined ? { item: run.parent.item } : {}) };
    const event: RunEvent =
      run.status === "completed"
        ? { type: "step_done", ...where, output: run.output ?? null }
        : {
            type: "step_failed",
            ...where,
            error: {
              code: run.error?.code ?? "TOOL_ERROR",
              message: `sub-workflow ${run.workflow} ${run.status}: ${run.error?.message ?? ""}`,
            },
          };
    await this.deps.queue.add(
      WORKFLOW_JOBS.event,
      { run_id: run.parent.run_id, event },
      { ...COORDINATOR_JOB_OPTIONS, jobId: `child.${run.run_id}` },
    );
  }

  /**
   * The agent that runs a capability-routed step: the least loaded (waiting + active tasks) agent
   * whose `capabilities` include it. The choice is stored (SET NX) before the job is added, so a
   * redelivery re-adds the job to the same queue and never runs the step on a second agent.
   */
  private async agentFor(run: RunState, jobId: string, capability: string): Promise<string> {
    const key = `${this.deps.store.keys.run(run.run_id)}:agent:${jobId}`;
    const chosen = await this.deps.redis.get(key);
    if (chosen) return chosen;
    const candidates = Object.entries(this.deps.config.agents)
      .filter(([, a]) => a.capabilities.includes(capability) && (!a.tenants || a.tenants.includes(run.tenant)))
      .map(([name]) => name);
    if (candidates.length === 0) throw new Error(`no agent has capability '${capability}'`);
    let best = candidates[0] as string;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (const name of candidates) {
      const counts = await this.agentQueue(name).getJobCounts("waiting", "active", "prioritized");
      const load = Object.values(counts).reduce((a, b) => a + b, 0);
      if (load < bestLoad) [best, bestLoad] = [name, load];
    }
    await this.deps.redis.set(key, best, "EX", this.deps.config.limits.retention_seconds, "NX");
    return (await this.deps.redis.get(key)) ?? best;
  }

  private agentQueue(agent: string): Queue {
    let queue = this.agentQueues.get(agent);
    if (!queue) {
      queue = new Queue(agentQueueName(agent), {
        connection: this.deps.redis,
        prefix: this.deps.config.redis.prefix,
        skipWaitingForReady: true,
      });
      queue.on("error", () => {});
      this.agentQueues.set(agent, queue);
    }
    return queue;
  }

  /** A step's task as a flow child: a normal task envelope on the agent's queue. */
  private async taskFlow(run: RunState, action: DispatchAction): Promise<FlowJob> {
    const { config } = this.deps;
    if (action.capability) action.agent = await this.agentFor(run, action.job_id, action.capability);
    const agentConfig = config.agents[action.agent];
    const data: TaskJobData = {
      v: 1,
      task_id: action.job_id,
      tenant: run.tenant,
      agent: action.agent,
      tool: action.tool,
      arguments: action.arguments,
      timeout_ms: action.timeout_ms ?? agentConfig?.timeout_ms ?? config.limits.task_timeout_ms,
      priority: 1,
      created_at: Date.now(),
      submitted_by: `run.${run.run_id}`,
    };
    const taskOptions = taskJobOptions({
      taskId: action.job_id,
      priority: 1,
      maxAttempts: action.attempts,
      backoffMs: action.backoff_ms,
      retentionSeconds: config.limits.retention_seconds,
      retentionCount: config.limits.retention_count,
    });
    return {
      name: action.tool,
      queueName: agentQueueName(action.agent),
      data,
      opts: {
        ...taskOptions,
        // Age only: a count bound could drop a finished task before a redelivery re-adds it.
        removeOnComplete: { age: config.limits.retention_seconds },
        removeOnFail: { age: config.limits.retention_seconds },
        // A finally failed task still releases its parent, which reads the failure.
        ignoreDependencyOnFailure: true,
      },
    };
  }

  /** Best effort: a task that is already running finishes, and its result is ignored. */
  private async cancelJob(jobId: string): Promise<void> {
    const parent = await this.deps.queue.getJob(jobId.replace(/^run\./, "done."));
    if (!parent) return;
    try {
      await parent.remove({ removeChildren: true });
      return;
    } catch {
      // A running child task is locked and cannot be removed: ask its worker to abort it, the way
      // POST /tasks/{id}/cancel does. It then fails as CANCELLED, which the cancelled run ignores.
    }
    const dependencies = await parent.getDependencies().catch(() => undefined);
    const children = [...Object.keys(dependencies?.processed ?? {}), ...(dependencies?.unprocessed ?? [])];
    for (const key of children) {
      // Dependency keys are `<prefix>:agent.<agent>:<job id>`; job ids never contain ':'.
      const match = /:agent\.([^:]+):([^:]+)$/.exec(key);
      if (!match) continue;
      const request: TaskCancelRequest = { agent: match[1] as string, task_id: match[2] as string };
      await this.deps.redis.publish(new Keys(this.deps.config.redis.prefix).cancelChannel(), JSON.stringify(request));
    }
  }

  private async startChild(run: RunState, action: Extract<Action, { type: "start_child" }>, followUps: RunEvent[]): Promise<void> {
    const stored = await this.deps.store.workflow(run.tenant, action.workflow);
    if (!stored) {
      followUps.push({
        type: "step_failed",
        step_id: action.step_id,
        ...(action.item !== undefined ? { item: action.item } : {}),
        error: { code: "NOT_FOUND", message: `no workflow '${action.workflow}'` },
      });
      return;
    }
    const state = newRunState({
      run_id: action.child_run_id,
      tenant: run.tenant,
      workflow: stored.name,
      version: stored.version,
      definition: stored.definition,
      input: action.input,
      now: Date.now(),
      parent: { run_id: run.run_id, step_id: action.step_id, ...(action.item !== undefined ? { item: action.item } : {}) },
    });
    // The child's id is deterministic; the idempotency key makes a second create a no-op.
    await this.deps.store.create(state, `child.${action.child_run_id}`);
    await this.deps.queue.add(
      WORKFLOW_JOBS.start,
      { run_id: action.child_run_id },
      { ...COORDINATOR_JOB_OPTIONS, jobId: `start.${action.child_run_id}` },
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.agentQueues.values()].map((q) => q.close()));
  }
}
