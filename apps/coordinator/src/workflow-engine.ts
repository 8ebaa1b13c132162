import type { SwitchyardConfig } from "@switchyard/config";
import { decodeFailure, type TaskCancelRequest, type TaskJobData } from "@switchyard/core";
import type { Logger, SwitchyardMetrics } from "@switchyard/observability";
import { agentQueueName, COORDINATOR_QUEUE, taskJobOptions } from "@switchyard/queue";
import { Keys } from "@switchyard/store";
import {
  type Action,
  advance,
  COORDINATOR_JOB_OPTIONS,
  type ContextStore,
  type DispatchAction,
  heartbeatTimerId,
  newRunState,
  RunEvent,
  type RunState,
  type RunStore,
  reconcileActions,
  type StoredWorkflow,
  WORKFLOW_JOBS,
  WorkflowJobData,
} from "@switchyard/workflow";
import { type FlowJob, type FlowProducer, type Job, Queue } from "bullmq";
import type { Redis } from "ioredis";

export interface WorkflowEngineDeps {
  config: SwitchyardConfig;
  redis: Redis;
  store: RunStore;
  contexts: ContextStore;
  flows: FlowProducer;
  queue: Queue;
  logger: Logger;
  /** Run and step durations (optional: tests may run the engine without metrics). */
  metrics?: Pick<SwitchyardMetrics, "recordWorkflowRun" | "recordWorkflowStep">;
}

const FINAL_STEP = new Set(["completed", "failed", "skipped", "cancelled"]);
const FINAL_RUN = new Set(["completed", "failed", "cancelled"]);

/**
 * The coordinator side of workflows: turns coordinator jobs into state-machine events, commits
 * each transition with compare-and-set, then carries out the transition's actions.
 *
 * Durability: a step's task job is the child of a `wf-step` job on the coordinator queue
 * (a BullMQ flow). When the task completes or finally fails, BullMQ moves the parent to `wait`
 * in the same Lua script, so the completion cannot be lost between processes. If the coordinator
 * dies after committing a transition but before acting on it, the job is redelivered, the event
 * is found already applied, and {@link reconcileActions} re-issues the actions, which are
 * idempotent because every job id is deterministic.
 */
export class WorkflowEngine {
  private readonly definitions = new Map<string, StoredWorkflow>();
  private readonly agentQueues = new Map<string, Queue>();

  constructor(private readonly deps: WorkflowEngineDeps) {}

  /** Handles one coordinator job whose name is one of WORKFLOW_JOBS. */
  async handle(job: Job): Promise<unknown> {
    const data = WorkflowJobData.parse(job.data);
    const event = await this.eventOf(job.name, data, job);
    if (!event) return null;
    if (event.type === "heartbeat_check") return this.checkHeartbeat(data.run_id, event);
    return this.apply(data.run_id, event);
  }

  /**
   * A participant step's heartbeat timer: if the participant heartbeated within `heartbeat_ms`,
   * schedule the next check; else the step fails with TIMEOUT.
   */
  private async checkHeartbeat(runId: string, event: Extract<RunEvent, { type: "heartbeat_check" }>): Promise<unknown> {
    const stored = await this.deps.store.load(runId);
    if (stored?.state.steps[event.step_id]?.status !== "waiting") return { checked: false };
    const step = (await this.definition(stored.state)).definition.steps.find((s) => s.step_id === event.step_id);
    if (!step?.heartbeat_ms) return { checked: false };
    const last = Math.max(event.since, (await this.deps.store.lastHeartbeat(runId, event.step_id)) ?? 0);
    const now = Date.now();
    if (now - last < step.heartbeat_ms) {
      const next: RunEvent = { ...event, n: event.n + 1 };
      await this.deps.queue.add(
        WORKFLOW_JOBS.event,
        { run_id: runId, event: next },
        { ...COORDINATOR_JOB_OPTIONS, jobId: heartbeatTimerId(runId, event.step_id, event.n + 1), delay: last + step.heartbeat_ms - now },
      );
      return { checked: true, alive: true };
    }
    return this.apply(runId, { type: "heartbeat_lost", step_id: event.step_id });
  }

  private async eventOf(name: string, data: WorkflowJobData, job: Job): Promise<RunEvent | undefined> {
    switch (name) {
      case WORKFLOW_JOBS.start:
        return { type: "start" };
      case WORKFLOW_JOBS.event:
        return RunEvent.parse(data.event);
      case WORKFLOW_JOBS.step: {
        if (!data.step_id) return undefined;
        if (data.group) return this.groupEvent(data.step_id, job);
        const where = { step_id: data.step_id, ...(data.item !== undefined ? { item: data.item } : {}) };
        const failures = Object.values(await job.getIgnoredChildrenFailures());
        if (failures.length > 0) {
          const error = decodeFailure(failures[0]) ?? { code: "INTERNAL", message: "step failed" };
          return {
            type: "step_failed",
            ...where,
            error: { code: error.code, message: error.message },
            attempts: await this.attemptsOf(job),
          };
        }
        const values = Object.values(await job.getChildrenValues());
        return { type: "step_done", ...where, output: values[0] ?? null, attempts: await this.attemptsOf(job) };
      }
      default:
        return undefined;
    }
  }

  /** A merge parent's children: results by item index (the last segment of each child's job id). */
  private async groupEvent(stepId: string, job: Job): Promise<RunEvent> {
    const itemOf = (key: string) => Number(key.slice(key.lastIndexOf(".") + 1));
    const results: Array<{ item: number; output?: unknown; error?: { code: string; message: string } }> = [];
    for (const [key, value] of Object.entries(await job.getChildrenValues())) results.push({ item: itemOf(key), output: value ?? null });
    for (const [key, reason] of Object.entries(await job.getIgnoredChildrenFailures())) {
      const error = decodeFailure(reason) ?? { code: "INTERNAL", message: "subtask failed" };
      results.push({ item: itemOf(key), error: { code: error.code, message: error.message } });
    }
    return { type: "group_done", step_id: stepId, results: results.filter((r) => Number.isInteger(r.item)) };
  }

  /** Attempts the step's task took (best effort: the task job may already be trimmed). */
  private async attemptsOf(parent: Job): Promise<number | undefined> {
    const data = parent.data as WorkflowJobData;
    if (!data.agent) return undefined;
    const childId = String(parent.id).replace(/^done\./, "run.");
    const child = await this.agentQueue(data.agent).getJob(childId);
    if (!child) return undefined;
    return Math.max(child.attemptsStarted ?? 0, child.attemptsMade);
  }

  private readonly running = new Map<string, Promise<unknown>>();

  /**
   * Applies an event to a run. Events of one run are serialised within this process (they would
   * only lose compare-and-set races to each other); across coordinators the CAS keeps them safe.
   */
  async apply(runId: string, event: RunEvent): Promise<{ applied: boolean; status?: string }> {
    const previous = this.running.get(runId) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => this.applyNow(runId, event));
    this.running.set(runId, next);
    try {
      return await next;
    } finally {
      if (this.running.get(runId) === next) this.running.delete(runId);
    }
  }

  /** Load, transition, compare-and-set, act. Retries on a lost race. */
  private async applyNow(runId: string, event: RunEvent): Promise<{ applied: boolean; status?: string }> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const stored = await this.deps.store.load(runId);
      if (!stored) return { applied: false };
      const definition = await this.definition(stored.state);
      const now = Date.now();
      const usesContext = definition.definition.steps.some((s) => s.context);
      const context = usesContext ? (await this.deps.contexts.read(stored.state.tenant, runId))?.document : undefined;
      const base = { run: stored.state, definition: definition.definition, now, ...(context ? { context } : {}) };
      const result = await advance({ ...base, event });
      if (!result.applied) {
        // Redelivered or stale: make sure the effects of the state we have did happen.
        await this.act(stored.state, await reconcileActions(base));
        return { applied: false, status: stored.state.status };
      }
      // Context writes go first and are idempotent per step, so a crash before the commit below
      // neither loses them nor, on redelivery, writes them twice.
      for (const action of result.actions)
        if (action.type === "context_write")
          await this.deps.contexts.write(stored.state.tenant, runId, `step.${action.step_id}`, action.values, now);
      if (!(await this.deps.store.commit(runId, stored.rev, result.run, result.transitions))) continue;
      this.observe(stored.state, result.run);
      await this.act(result.run, result.actions);
      return { applied: true, status: result.run.status };
    }
    throw new Error(`run ${runId}: too much contention committing ${event.type}`);
  }

  /** Durations of the steps and run this committed transition finished (once: only on change). */
  private observe(before: RunState, after: RunState): void {
    const metrics = this.deps.metrics;
    if (!metrics) return;
    for (const [stepId, step] of Object.entries(after.steps)) {
      if (!FINAL_STEP.has(step.status) || before.steps[stepId]?.status === step.status) continue;
      const seconds = step.started_at && step.finished_at ? (step.finished_at - step.started_at) / 1_000 : 0;
      metrics.recordWorkflowStep({ workflow: after.workflow, step: stepId, outcome: step.status }, seconds);
    }
    if (FINAL_RUN.has(after.status) && before.status !== after.status) {
      const seconds = ((after.finished_at ?? Date.now()) - (after.started_at ?? after.created_at)) / 1_000;
      metrics.recordWorkflowRun({ workflow: after.workflow, outcome: after.status }, seconds);
    }
  }

  private async definition(run: RunState): Promise<StoredWorkflow> {
    const key = `${run.tenant}/${run.workflow}@${run.version}`;
    let found = this.definitions.get(key);
    if (!found) {
      found = await this.deps.store.workflow(run.tenant, run.workflow, run.version);
      if (!found) throw new Error(`run ${run.run_id}: workflow ${key} is missing`);
      if (this.definitions.size > 1_000) this.definitions.clear();
      this.definitions.set(key, found);
    }
    return found;
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

  private async act(run: RunState, actions: Action[]): Promise<void> {
    const flows: FlowJob[] = [];
    for (const action of actions) {
      switch (action.type) {
        case "dispatch": {
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
            opts: { ...COORDINATOR_JOB_OPTIONS, jobId: action.job_id.replace(/^run\./, "done.") },
            children: [child],
          });
          break;
        }
        case "dispatch_group": {
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
          await this.deps.queue.add(
            WORKFLOW_JOBS.event,
            { run_id: run.run_id, event: action.event },
            { ...COORDINATOR_JOB_OPTIONS, jobId: action.job_id, delay: action.delay_ms },
          );
          break;
        case "cancel_jobs":
          await Promise.all(action.job_ids.map((id) => this.cancelJob(id)));
          break;
        case "clear_timers":
          await Promise.all(action.job_ids.map((id) => this.deps.queue.remove(id).catch(() => 0)));
          break;
        case "start_child":
          await this.startChild(run, action);
          break;
        case "cancel_child":
          await this.deps.queue.add(
            WORKFLOW_JOBS.event,
            { run_id: action.child_run_id, event: { type: "cancel", reason: "parent run ended" } },
            { ...COORDINATOR_JOB_OPTIONS, jobId: `cancel.${action.child_run_id}` },
          );
          break;
        case "context_write":
          // Written before the commit (see apply).
          break;
        case "finished":
          if (run.parent) {
            const event: RunEvent =
              run.status === "completed"
                ? {
                    type: "step_done",
                    step_id: run.parent.step_id,
                    ...(run.parent.item !== undefined ? { item: run.parent.item } : {}),
                    output: run.output ?? null,
                  }
                : {
                    type: "step_failed",
                    step_id: run.parent.step_id,
                    ...(run.parent.item !== undefined ? { item: run.parent.item } : {}),
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
          this.deps.logger.debug({ run_id: run.run_id, status: action.status }, "run finished");
          break;
      }
    }
    if (flows.length > 0) await this.deps.flows.addBulk(flows);
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

  private async startChild(run: RunState, action: Extract<Action, { type: "start_child" }>): Promise<void> {
    const stored = await this.deps.store.workflow(run.tenant, action.workflow);
    if (!stored) {
      await this.applyNow(run.run_id, {
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
