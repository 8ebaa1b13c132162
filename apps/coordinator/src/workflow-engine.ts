import type { SwitchyardConfig } from "@switchyard/config";
import type { Logger, SwitchyardMetrics } from "@switchyard/observability";
import {
  advanceBatch,
  COORDINATOR_JOB_OPTIONS,
  type ContextStore,
  heartbeatTimerId,
  RunEvent,
  type RunState,
  type RunStore,
  reconcileActions,
  type StoredWorkflow,
  WORKFLOW_JOBS,
  WorkflowJobData,
} from "@switchyard/workflow";
import type { Job, Queue } from "bullmq";
import type { ChainableCommander, Redis } from "ioredis";
import { RunActions } from "./run-actions.js";
import { TransactionAborted, type TxConnection, type TxPool } from "./run-transaction.js";
import { queueStepReads, type StepReads } from "./step-events.js";

export interface WorkflowEngineDeps {
  config: SwitchyardConfig;
  redis: Redis;
  store: RunStore;
  contexts: ContextStore;
  /** Dedicated connections for WATCH/MULTI transitions. */
  transactions: TxPool;
  queue: Queue;
  logger: Logger;
  /** Run and step durations (optional: tests may run the engine without metrics). */
  metrics?: Pick<SwitchyardMetrics, "recordWorkflowRun" | "recordWorkflowStep">;
}

export interface Applied {
  applied: boolean;
  status?: string;
}

/** What a pending event is made from: an event, or a finished step's flow parent (read in the transaction). */
type Source = { event: RunEvent } | { job: Job; data: WorkflowJobData & { step_id: string } };

interface Pending {
  source: Source;
  resolve: (result: Applied) => void;
  reject: (error: unknown) => void;
}

/** A run's and its steps' statuses before a transition (for the metrics of what it finished). */
interface Statuses {
  status: string;
  steps: Map<string, string>;
}

function statusesOf(run: RunState): Statuses {
  return { status: run.status, steps: new Map(Object.entries(run.steps).map(([id, s]) => [id, s.status])) };
}

const FINAL_STEP = new Set(["completed", "failed", "skipped", "cancelled"]);
const FINAL_RUN = new Set(["completed", "failed", "cancelled"]);
/** Events of one run applied in one transaction at most. */
const MAX_BATCH = 256;

/**
 * The coordinator side of workflows: turns coordinator jobs into state-machine events and applies
 * them to their run in transactions.
 *
 * One transition is two round trips on a dedicated connection: (1) WATCH the run, read it and
 * the results of the finished steps whose events are applied; (2) MULTI: the BullMQ jobs the new
 * state implies (next steps' flows, timers) + the state and its transitions, EXEC. EXEC aborts,
 * and the transition is recomputed, when another coordinator changed the run in between, so two
 * coordinators never both start a step and no job is added for a state that was not stored.
 * Events of a run that arrive while its previous transition is in flight are applied together
 * in the next one (a wide fan-out writes the run once per batch, not once per item).
 *
 * Durability: a step's task job is the child of a `wf-step` job on the coordinator queue
 * (a BullMQ flow). When the task completes or finally fails, BullMQ moves the parent to `wait`
 * in the same Lua script, so the completion cannot be lost between processes. The coordinator
 * job completes only after its event was committed and acted on; if the coordinator dies before,
 * the job is redelivered, the event is found already applied, and {@link reconcileActions}
 * re-issues the actions, which are idempotent because every job id is deterministic.
 */
export class WorkflowEngine {
  private readonly definitions = new Map<string, StoredWorkflow>();
  private readonly actions: RunActions;
  /** Per run: events waiting for the transition in flight (present while one is). */
  private readonly queues = new Map<string, Pending[]>();

  constructor(private readonly deps: WorkflowEngineDeps) {
    this.actions = new RunActions(deps);
  }

  /** Handles one coordinator job whose name is one of WORKFLOW_JOBS. */
  async handle(job: Job): Promise<unknown> {
    const data = WorkflowJobData.parse(job.data);
    switch (job.name) {
      case WORKFLOW_JOBS.start:
        return this.enqueue(data.run_id, { event: { type: "start" } });
      case WORKFLOW_JOBS.event: {
        const event = RunEvent.parse(data.event);
        if (event.type === "heartbeat_check") return this.checkHeartbeat(data.run_id, event);
        return this.enqueue(data.run_id, { event });
      }
      case WORKFLOW_JOBS.step:
        if (!data.step_id) return null;
        return this.enqueue(data.run_id, { job, data: { ...data, step_id: data.step_id } });
      default:
        return null;
    }
  }

  /** Applies an event to a run (after the events of the run already waiting). */
  apply(runId: string, event: RunEvent): Promise<Applied> {
    return this.enqueue(runId, { event });
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

  /**
   * Events of one run are serialised within this process (they would only abort each other's
   * transactions); across coordinators WATCH keeps them safe.
   */
  private enqueue(runId: string, source: Source): Promise<Applied> {
    return new Promise<Applied>((resolve, reject) => {
      const waiting = this.queues.get(runId);
      if (waiting) {
        waiting.push({ source, resolve, reject });
        return;
      }
      this.queues.set(runId, [{ source, resolve, reject }]);
      void this.drain(runId);
    });
  }

  private async drain(runId: string): Promise<void> {
    const waiting = this.queues.get(runId) as Pending[];
    while (waiting.length > 0) {
      const batch = waiting.splice(0, MAX_BATCH);
      try {
        await this.settle(runId, batch);
      } catch (error) {
        // One bad event must not fail the others: apply them one by one.
        if (batch.length === 1) batch[0]?.reject(error);
        else for (const p of batch) await this.settle(runId, [p]).catch((e: unknown) => p.reject(e));
      }
    }
    this.queues.delete(runId);
  }

  private async settle(runId: string, batch: Pending[]): Promise<void> {
    const { results } = await this.transition(
      runId,
      batch.map((p) => p.source),
    );
    for (const [i, p] of batch.entries()) p.resolve(results[i] as Applied);
  }

  /**
   * Read, transition, commit with the jobs, act. Starts over when the run changed in between.
   * Follow-up events (a missing sub-workflow fails its step) are applied before this returns, so
   * they are committed before the jobs that caused them are acknowledged.
   */
  private async transition(runId: string, sources: Source[]): Promise<{ results: Applied[] }> {
    let results: Applied[] | undefined;
    for (let next = sources, attempt = 0; next.length > 0; attempt++) {
      if (attempt >= 100) throw new Error(`run ${runId}: too much contention committing ${next.length} event(s)`);
      const tx = await this.deps.transactions.acquire();
      try {
        const done = await this.attempt(tx, runId, next);
        if (done) {
          results ??= done.results;
          next = done.followUps.map((event) => ({ event }));
          attempt = -1;
        }
      } catch (error) {
        if (!(error instanceof TransactionAborted)) throw error;
        this.deps.logger.debug({ run_id: runId, attempt, reason: error.message }, "run transition aborted; recomputing");
      } finally {
        this.deps.transactions.release(tx);
      }
    }
    return { results: results ?? [] };
  }

  private async attempt(
    tx: TxConnection,
    runId: string,
    sources: Source[],
  ): Promise<{ results: Applied[]; followUps: RunEvent[] } | undefined> {
    const { store } = this.deps;
    const reads: Array<StepReads | undefined> = [];
    const { replies, epoch } = await tx.watch(store.keys.run(runId), (pipeline: ChainableCommander) => {
      store.queueLoad(pipeline, runId);
      for (const source of sources)
        reads.push("job" in source ? queueStepReads(pipeline, this.deps.config.redis.prefix, source.job, source.data) : undefined);
    });
    const stored = store.parseLoad(replies[0], { validate: false });
    if (!stored) return { results: sources.map(() => ({ applied: false })), followUps: [] };
    let at = 1;
    const events = sources.map((source, i) => {
      const read = reads[i];
      if (!read) return (source as { event: RunEvent }).event;
      const event = read.toEvent(replies.slice(at, at + read.commands));
      at += read.commands;
      return event;
    });

    const definition = (await this.definition(stored.state)).definition;
    const now = Date.now();
    const usesContext = definition.steps.some((s) => s.context);
    const context = usesContext ? (await this.deps.contexts.read(stored.state.tenant, runId))?.document : undefined;
    const base = { definition, now, ...(context ? { context } : {}) };
    // The parsed document is ours: the machine changes it in place (no clone of a 1,000-item run
    // per transition); what `observe` compares against is taken first.
    const before = statusesOf(stored.state);
    const result = await advanceBatch({ ...base, run: stored.state, events, owned: true });
    const applied = result.applied.includes(true);
    const actions = [...result.actions];
    // Redelivered or stale events: make sure the effects of the state we have did happen.
    if (result.applied.includes(false))
      actions.push(...(await reconcileActions({ ...base, run: result.run, ...(result.context ? { context: result.context } : {}) })));

    // Context writes go first and are idempotent per step, so a crash before the commit below
    // neither loses them nor, on redelivery, writes them twice.
    for (const action of result.actions)
      if (action.type === "context_write")
        await this.deps.contexts.write(stored.state.tenant, runId, `step.${action.step_id}`, action.values, now);

    const jobs = await this.actions.jobsOf(result.run, actions);
    if (applied || jobs.length > 0) {
      const rev = await tx.commit(
        epoch,
        jobs,
        applied ? (multi) => store.queueCommit(multi, runId, stored.rev, result.run, result.transitions) : undefined,
      );
      if (applied && !(typeof rev === "number" && rev >= 0)) {
        // Cannot happen under WATCH; if it ever does, the transition is recomputed.
        this.deps.logger.warn({ run_id: runId }, "run commit found a moved revision under WATCH");
        return undefined;
      }
    }
    if (applied) this.observe(before, result.run);
    const followUps: RunEvent[] = [];
    await this.actions.afterCommit(result.run, actions, followUps);
    return {
      results: result.applied.map((a) => ({ applied: a, status: a ? result.run.status : before.status })),
      followUps,
    };
  }

  /** Durations of the steps and run this committed transition finished (once: only on change). */
  private observe(before: Statuses, after: RunState): void {
    const metrics = this.deps.metrics;
    if (!metrics) return;
    for (const [stepId, step] of Object.entries(after.steps)) {
      if (!FINAL_STEP.has(step.status) || before.steps.get(stepId) === step.status) continue;
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

  async close(): Promise<void> {
    await this.actions.close();
  }
}
