import { splitQualifiedToolName } from "@switchyard/core";
import { pickPaths, setPath } from "./context-store.js";
import {
  type ItemState,
  type RunEvent,
  type RunState,
  type StepDefinition,
  type StepError,
  type StepState,
  type StepStatus,
  type StepTransition,
  stepKind,
  type WorkflowDefinition,
} from "./schema.js";
import { condition, render, type Scope } from "./template.js";

/**
 * The workflow state machine. PURE: given a run, its definition and one event it returns the next
 * run state and the side effects to carry out; it reads no clock, Redis or queue (time comes in
 * as `now`). Events are idempotent: one that no longer applies (a redelivered completion, a timer
 * for a finished step) returns `applied: false` and no actions.
 */

export type Action =
  | {
      type: "dispatch";
      step_id: string;
      item?: number;
      /** Deterministic BullMQ job id of the task: `run.<run>.<step>[.<item>]`. */
      job_id: string;
      agent: string;
      tool: string;
      /** Set for capability-routed steps: the coordinator picks `agent` (least loaded with it). */
      capability?: string;
      arguments: Record<string, unknown>;
      attempts: number;
      backoff_ms: number;
      timeout_ms?: number;
    }
  /**
   * A decompose step's subtasks as ONE BullMQ flow: every subtask task is a child of a single
   * merge parent (`done.<run>.<step>.group`) that the coordinator processes once all are done.
   */
  | { type: "dispatch_group"; step_id: string; parent_job_id: string; children: DispatchAction[] }
  | { type: "timer"; job_id: string; delay_ms: number; event: RunEvent }
  | { type: "cancel_jobs"; job_ids: string[] }
  /** Timers no longer needed (their step finished): removed so delayed jobs do not pile up. */
  | { type: "clear_timers"; job_ids: string[] }
  | { type: "start_child"; step_id: string; item?: number; child_run_id: string; workflow: string; input: unknown }
  | { type: "cancel_child"; child_run_id: string }
  | { type: "context_write"; step_id: string; values: Record<string, unknown> }
  | { type: "finished"; status: "completed" | "failed" | "cancelled" };

export type DispatchAction = Extract<Action, { type: "dispatch" }>;

/** Decompose steps without a concurrency cap run their subtasks under one merge parent. */
export function isGroupStep(step: StepDefinition): boolean {
  return !!step.decompose && step.decompose.concurrency === undefined;
}

export function groupParentJobId(runId: string, stepId: string): string {
  return `done.${runId}.${stepId}.group`;
}

/** Moves the item dispatches of `stepId` pushed since `from` into one dispatch_group action. */
function groupDispatches(actions: Action[], from: number, runId: string, stepId: string): void {
  const children: DispatchAction[] = [];
  for (let i = from; i < actions.length; ) {
    const a = actions[i] as Action;
    if (a.type === "dispatch" && a.step_id === stepId && a.item !== undefined) {
      children.push(a);
      actions.splice(i, 1);
    } else i++;
  }
  if (children.length > 0)
    actions.push({ type: "dispatch_group", step_id: stepId, parent_job_id: groupParentJobId(runId, stepId), children });
}

export interface AdvanceInput {
  run: RunState;
  definition: WorkflowDefinition;
  event: RunEvent;
  now: number;
  /** The parts of the run's context document a step may read (exposed to templates as `context`). */
  context?: Record<string, unknown>;
}

export interface AdvanceResult {
  run: RunState;
  actions: Action[];
  transitions: StepTransition[];
  applied: boolean;
}

const TERMINAL: ReadonlySet<StepStatus> = new Set(["completed", "failed", "skipped", "cancelled"]);
const RUN_TERMINAL = new Set(["completed", "failed", "cancelled"]);

export function isTerminal(status: StepStatus): boolean {
  return TERMINAL.has(status);
}

/** `run.<run>.<step>[.<suffix>]`. BullMQ forbids ':' in custom job ids, so the separator is '.'. */
export function stepJobId(runId: string, stepId: string, item?: number | string): string {
  return item === undefined ? `run.${runId}.${stepId}` : `run.${runId}.${stepId}.${item}`;
}

export function timerJobId(runId: string, stepId: string, item?: number): string {
  return item === undefined ? `tmo.${runId}.${stepId}` : `tmo.${runId}.${stepId}.${item}`;
}

/** Heartbeat checks of a participant step: `hb.<run>.<step>.<n>`, one per check. */
export function heartbeatTimerId(runId: string, stepId: string, n: number): string {
  return `hb.${runId}.${stepId}.${n}`;
}

/** The first heartbeat check (later ones are scheduled by the coordinator, which knows the clock). */
function heartbeatTimerIds(run: RunState, stepId: string): string[] {
  return [heartbeatTimerId(run.run_id, stepId, 0)];
}

export function childRunId(runId: string, stepId: string, item?: number): string {
  return item === undefined ? `${runId}-${stepId}` : `${runId}-${stepId}-${item}`;
}

/** A fresh run: every step pending. */
export function newRunState(args: {
  run_id: string;
  tenant: string;
  workflow: string;
  version: number;
  definition: WorkflowDefinition;
  input: unknown;
  now: number;
  created_by?: string;
  parent?: RunState["parent"];
}): RunState {
  const steps: Record<string, StepState> = {};
  for (const step of args.definition.steps) steps[step.step_id] = { status: "pending", attempts: 0 };
  return {
    v: 1,
    run_id: args.run_id,
    tenant: args.tenant,
    workflow: args.workflow,
    version: args.version,
    status: "pending",
    input: args.input ?? {},
    created_at: args.now,
    ...(args.created_by ? { created_by: args.created_by } : {}),
    ...(args.parent ? { parent: args.parent } : {}),
    steps,
    seq: 0,
  };
}

/** A definition's step graph, derived once per definition object (definitions are immutable). */
interface Graph {
  byId: Map<string, StepDefinition>;
  dependents: Map<string, string[]>;
  /** fallback step → the steps that fall back to it. */
  primaries: Map<string, string[]>;
}

const graphs = new WeakMap<WorkflowDefinition, Graph>();

function graphOf(def: WorkflowDefinition): Graph {
  let graph = graphs.get(def);
  if (graph) return graph;
  graph = { byId: new Map(def.steps.map((s) => [s.step_id, s])), dependents: new Map(), primaries: new Map() };
  for (const step of def.steps) {
    for (const dep of step.depends_on) graph.dependents.set(dep, [...(graph.dependents.get(dep) ?? []), step.step_id]);
    if (typeof step.on_failure === "object")
      graph.primaries.set(step.on_failure.fallback, [...(graph.primaries.get(step.on_failure.fallback) ?? []), step.step_id]);
  }
  graphs.set(def, graph);
  return graph;
}

class Transition {
  readonly actions: Action[] = [];
  readonly transitions: StepTransition[] = [];
  readonly byId: ReadonlyMap<string, StepDefinition>;
  readonly dependents: ReadonlyMap<string, string[]>;
  /** fallback step → the steps that fall back to it. */
  readonly primaries: ReadonlyMap<string, string[]>;

  constructor(
    readonly run: RunState,
    readonly def: WorkflowDefinition,
    readonly now: number,
    public context: Record<string, unknown> | undefined,
  ) {
    const graph = graphOf(def);
    this.byId = graph.byId;
    this.dependents = graph.dependents;
    this.primaries = graph.primaries;
  }

  state(id: string): StepState {
    const s = this.run.steps[id];
    if (!s) throw new Error(`run ${this.run.run_id} has no step ${id}`);
    return s;
  }

  note(stepId: string | undefined, status: string, item?: number, error?: StepError): void {
    this.run.seq += 1;
    this.transitions.push({
      seq: this.run.seq,
      at: this.now,
      run_id: this.run.run_id,
      kind: stepId === undefined ? "run" : "step",
      ...(stepId !== undefined ? { step_id: stepId } : {}),
      ...(item !== undefined ? { item } : {}),
      status,
      ...(error ? { error } : {}),
    });
  }

  setStep(id: string, patch: Partial<StepState>): void {
    const s = this.state(id);
    Object.assign(s, patch);
    if (patch.status) this.note(id, patch.status, undefined, patch.error);
  }

  /** The output downstream steps see (a failed step recovered by its fallback shows the fallback's). */
  visibleOutput(id: string): unknown {
    const s = this.state(id);
    const step = this.byId.get(id);
    if (s.status === "failed" && step && typeof step.on_failure === "object") {
      const fb = this.run.steps[step.on_failure.fallback];
      if (fb?.status === "completed") return fb.output ?? null;
    }
    return s.output ?? null;
  }

  /** Template scope; a step sees only the context paths it declares. */
  scope(extra: Scope = {}, step?: StepDefinition): Scope {
    const context = step?.context && this.context ? pickPaths(this.context, step.context) : {};
    const steps: Record<string, unknown> = {};
    for (const [id, s] of Object.entries(this.run.steps))
      steps[id] = { output: this.visibleOutput(id), status: s.status, ...(s.error ? { error: s.error } : {}) };
    return { input: this.run.input, steps, run: { id: this.run.run_id }, context, ...extra };
  }

  /** A dependency no longer blocks its dependents. */
  settled(id: string): boolean {
    const s = this.state(id);
    if (s.status === "completed" || s.status === "skipped" || s.status === "cancelled") return true;
    if (s.status !== "failed") return false;
    const step = this.byId.get(id);
    if (step?.on_failure === "continue") return true;
    if (step && typeof step.on_failure === "object") return isTerminal(this.state(step.on_failure.fallback).status);
    return false;
  }

  finishRun(status: "completed" | "failed" | "cancelled", error?: StepError): void {
    const jobIds: string[] = [];
    const timers: string[] = this.def.deadline_ms ? [`ddl.${this.run.run_id}`] : [];
    for (const [id, s] of Object.entries(this.run.steps)) {
      if (s.status === "running" || s.status === "waiting") {
        const step = this.byId.get(id);
        jobIds.push(...this.liveJobIds(id, s));
        if (step?.timeout_ms) {
          if (s.items)
            for (const [i, it] of s.items.entries()) if (it.status === "running") timers.push(timerJobId(this.run.run_id, id, i));
          timers.push(timerJobId(this.run.run_id, id));
        }
        if (step?.heartbeat_ms) timers.push(...heartbeatTimerIds(this.run, id));
        if (step && stepKind(step) === "workflow") {
          if (s.items) {
            for (const [i, it] of s.items.entries())
              if (it.status === "running") this.actions.push({ type: "cancel_child", child_run_id: childRunId(this.run.run_id, id, i) });
          } else this.actions.push({ type: "cancel_child", child_run_id: childRunId(this.run.run_id, id) });
        }
        for (const it of s.items ?? []) if (!isTerminal(it.status)) it.status = "cancelled";
        this.setStep(id, { status: "cancelled", finished_at: this.now });
      } else if (s.status === "pending") {
        this.setStep(id, { status: "skipped", skipped_reason: `run ${status}` });
      }
    }
    if (jobIds.length > 0) this.actions.push({ type: "cancel_jobs", job_ids: jobIds });
    if (timers.length > 0) this.actions.push({ type: "clear_timers", job_ids: timers });
    this.run.status = status;
    this.run.finished_at = this.now;
    if (error) this.run.error = error;
    this.note(undefined, status, undefined, error);
    this.actions.push({ type: "finished", status });
  }

  liveJobIds(id: string, s: StepState): string[] {
    const runId = this.run.run_id;
    const step = this.byId.get(id);
    if (step && isGroupStep(step) && s.phase === "run") return [stepJobId(runId, id, "group")];
    if (s.items && s.phase !== "merge" && s.phase !== "split")
      return s.items.flatMap((it, i) => (it.status === "running" ? [stepJobId(runId, id, i)] : []));
    if (s.phase === "split") return [stepJobId(runId, id, "split")];
    if (s.phase === "merge") return [stepJobId(runId, id, "merge")];
    return [stepJobId(runId, id)];
  }

  /** A step (not an item) failed for good: apply its on_failure policy. */
  failStep(id: string, error: StepError, attempts?: number): void {
    const s = this.state(id);
    for (const it of s.items ?? []) if (!isTerminal(it.status)) it.status = "cancelled";
    this.setStep(id, { status: "failed", error, finished_at: this.now, ...(attempts !== undefined ? { attempts } : {}) });
    const step = this.byId.get(id);
    if (step?.on_failure === "fail") this.finishRun("failed", { code: error.code, message: `step '${id}' failed: ${error.message}` });
  }

  completeStep(id: string, output: unknown, attempts?: number): void {
    this.setStep(id, { status: "completed", output, finished_at: this.now, ...(attempts !== undefined ? { attempts } : {}) });
    const step = this.byId.get(id);
    if (step?.context_write) this.pendingContextWrites.push(id);
  }

  readonly pendingContextWrites: string[] = [];
}

export async function advance(input: AdvanceInput): Promise<AdvanceResult> {
  const { event, ...rest } = input;
  const batch = await advanceBatch({ ...rest, events: [event] });
  if (!batch.applied[0]) return { run: input.run, actions: [], transitions: [], applied: false };
  return { run: batch.run, actions: batch.actions, transitions: batch.transitions, applied: true };
}

export interface AdvanceBatchInput extends Omit<AdvanceInput, "event"> {
  events: RunEvent[];
  /**
   * The caller hands `run` over (a copy nobody else holds, e.g. just parsed from storage): it is
   * changed in place instead of cloned. Otherwise `run` is left as it was.
   */
  owned?: boolean;
}

export interface AdvanceBatchResult {
  /** The run after every applied event (`input.run` itself when none applied). */
  run: RunState;
  /** The actions and transitions of the applied events, in event order. */
  actions: Action[];
  transitions: StepTransition[];
  /** Per event: did it change the run? */
  applied: boolean[];
  /** The context document as the applied events' context writes left it. */
  context?: Record<string, unknown>;
}

/**
 * Applies several events of one run in order, as if `advance` were called once per event on the
 * previous call's run (the same result), but cloning the run once instead of once per event.
 * The coordinator uses it to apply every event of a run that arrived while it was busy with one
 * commit, so a wide fan-out writes the run document once per batch rather than once per item.
 */
export async function advanceBatch(input: AdvanceBatchInput): Promise<AdvanceBatchResult> {
  const run = input.owned ? input.run : structuredClone(input.run);
  const out: AdvanceBatchResult = { run, actions: [], transitions: [], applied: [] };
  let context = input.context;
  for (const event of input.events) {
    const t = new Transition(run, input.definition, input.now, context);
    // An event that does not apply returns before changing the run (see applyEvent).
    const applied = !RUN_TERMINAL.has(run.status) && (await applyEvent(t, event));
    out.applied.push(applied);
    if (!applied) continue;
    await flushContextWrites(t);
    if (run.status === "running") await schedule(t);
    out.actions.push(...t.actions);
    out.transitions.push(...t.transitions);
    context = t.context;
  }
  if (!out.applied.includes(true)) out.run = input.run;
  if (context) out.context = context;
  return out;
}

/**
 * Renders the context writes of steps that just completed, applies them to the in-memory
 * document (so steps started in this same transition read them) and emits them as actions.
 */
async function flushContextWrites(t: Transition): Promise<void> {
  while (t.pendingContextWrites.length > 0) {
    const id = t.pendingContextWrites.shift() as string;
    const step = t.byId.get(id);
    if (!step?.context_write) continue;
    let values: Record<string, unknown>;
    try {
      values = (await render(step.context_write, t.scope({ output: t.state(id).output }, step))) as Record<string, unknown>;
    } catch (error) {
      t.failStep(id, { code: "VALIDATION_FAILED", message: `context_write: ${(error as Error).message}` });
      continue;
    }
    t.context = structuredClone(t.context ?? {});
    for (const [path, value] of Object.entries(values)) setPath(t.context, path, value);
    t.actions.push({ type: "context_write", step_id: id, values });
  }
}

async function applyEvent(t: Transition, event: RunEvent): Promise<boolean> {
  const run = t.run;
  switch (event.type) {
    case "heartbeat_check":
      // Resolved by the coordinator (it reads the last heartbeat); never reaches the machine.
      return false;
    case "start": {
      if (run.status !== "pending") return false;
      run.status = "running";
      run.started_at = t.now;
      t.note(undefined, "running");
      if (t.def.deadline_ms)
        t.actions.push({ type: "timer", job_id: `ddl.${run.run_id}`, delay_ms: t.def.deadline_ms, event: { type: "deadline" } });
      return true;
    }
    case "cancel": {
      if (run.status !== "running" && run.status !== "pending") return false;
      t.finishRun("cancelled", { code: "CANCELLED", message: event.reason ?? "cancelled" });
      return true;
    }
    case "deadline": {
      if (run.status !== "running") return false;
      t.finishRun("failed", { code: "TIMEOUT", message: `run exceeded its deadline of ${t.def.deadline_ms} ms` });
      return true;
    }
    case "step_done":
    case "step_failed":
    case "step_timeout":
    case "heartbeat_lost":
      return applyStepOutcome(t, event);
    case "group_done": {
      const s = run.steps[event.step_id];
      if (s?.status !== "running" || s.phase !== "run" || !s.items) return false;
      let changed = false;
      for (const result of event.results) {
        const it = s.items[result.item];
        if (it?.status !== "running") continue;
        changed = true;
        it.finished_at = t.now;
        if (result.attempts !== undefined) it.attempts = result.attempts;
        if (result.error) {
          it.status = "failed";
          it.error = result.error;
        } else {
          it.status = "completed";
          it.output = result.output ?? null;
        }
        t.note(event.step_id, it.status, result.item, it.error);
      }
      return changed;
    }
    case "report": {
      const s = run.steps[event.step_id];
      if (s?.status !== "waiting") return false;
      const step = t.byId.get(event.step_id);
      const timers = [
        ...(step?.timeout_ms ? [timerJobId(run.run_id, event.step_id)] : []),
        ...(step?.heartbeat_ms ? heartbeatTimerIds(run, event.step_id) : []),
      ];
      if (timers.length > 0) t.actions.push({ type: "clear_timers", job_ids: timers });
      if (event.outcome === "complete") {
        if (event.by) s.completed_by = event.by;
        t.completeStep(event.step_id, event.output ?? null);
      } else {
        if (event.by) s.completed_by = event.by;
        t.failStep(event.step_id, event.error ?? { code: "TOOL_ERROR", message: "reported as failed" });
      }
      return true;
    }
  }
}

type Outcome =
  | { kind: "done"; output: unknown; attempts?: number | undefined }
  | { kind: "failed"; error: StepError; attempts?: number | undefined };

async function applyStepOutcome(
  t: Transition,
  event: Extract<RunEvent, { type: "step_done" | "step_failed" | "step_timeout" | "heartbeat_lost" }>,
): Promise<boolean> {
  if (t.run.status !== "running") return false;
  const s = t.run.steps[event.step_id];
  const step = t.byId.get(event.step_id);
  if (!s || !step || (s.status !== "running" && s.status !== "waiting")) return false;
  const outcome: Outcome =
    event.type === "step_done"
      ? { kind: "done", output: event.output, attempts: event.attempts }
      : event.type === "step_failed"
        ? { kind: "failed", error: event.error, attempts: event.attempts }
        : event.type === "heartbeat_lost"
          ? { kind: "failed", error: { code: "TIMEOUT", message: `no heartbeat from the participant within ${step.heartbeat_ms} ms` } }
          : { kind: "failed", error: { code: "TIMEOUT", message: `step timed out after ${step.timeout_ms} ms` } };
  if (event.type === "heartbeat_lost" && s.status !== "waiting") return false;
  if (event.type !== "step_timeout" && step.timeout_ms)
    t.actions.push({ type: "clear_timers", job_ids: [timerJobId(t.run.run_id, step.step_id, event.item)] });

  // Items of a foreach or of a decompose's run phase.
  if (event.item !== undefined) {
    const it = s.items?.[event.item];
    if (it?.status !== "running" || (s.phase !== undefined && s.phase !== "run")) return false;
    if (event.type === "step_timeout")
      t.actions.push({ type: "cancel_jobs", job_ids: [stepJobId(t.run.run_id, step.step_id, event.item)] });
    it.finished_at = t.now;
    if (outcome.attempts !== undefined) it.attempts = outcome.attempts;
    if (outcome.kind === "done") {
      it.status = "completed";
      it.output = outcome.output;
    } else {
      it.status = "failed";
      it.error = outcome.error;
    }
    t.note(step.step_id, it.status, event.item, it.status === "failed" ? it.error : undefined);
    return true;
  }

  if (s.items && s.phase !== "split" && s.phase !== "merge") return false;
  if (event.type === "step_timeout") {
    t.actions.push({ type: "cancel_jobs", job_ids: t.liveJobIds(step.step_id, s) });
    if (stepKind(step) === "workflow") t.actions.push({ type: "cancel_child", child_run_id: childRunId(t.run.run_id, step.step_id) });
  }
  if (outcome.kind === "failed") {
    t.failStep(step.step_id, outcome.error, outcome.attempts);
    return true;
  }
  if (step.decompose && s.phase === "split") {
    const subtasks = subtasksOf(outcome.output);
    if (!subtasks) {
      t.failStep(step.step_id, {
        code: "VALIDATION_FAILED",
        message: "the splitter's output is not a list of subtasks ({subtasks: [{tool?, arguments?, id?}]})",
      });
      return true;
    }
    s.phase = "run";
    s.item_values = subtasks;
    s.items = subtasks.map(() => ({ status: "pending", attempts: 0 }));
    t.note(step.step_id, "running", undefined);
    return true;
  }
  t.completeStep(step.step_id, outcome.output, outcome.attempts);
  return true;
}

interface Subtask {
  id?: string;
  tool?: string;
  capability?: string;
  arguments?: Record<string, unknown>;
  description?: string;
}

/** Structured output of a splitter: `{subtasks: [...]}` or a bare list; each item an object. */
export function subtasksOf(output: unknown): Subtask[] | undefined {
  const list = Array.isArray(output)
    ? output
    : output && typeof output === "object" && Array.isArray((output as { subtasks?: unknown }).subtasks)
      ? (output as { subtasks: unknown[] }).subtasks
      : undefined;
  if (!list) return undefined;
  const out: Subtask[] = [];
  for (const entry of list) {
    if (!entry || typeof entry !== "object" || Array.isArray(entry)) return undefined;
    const e = entry as Record<string, unknown>;
    if (e.tool !== undefined && typeof e.tool !== "string") return undefined;
    if (e.capability !== undefined && typeof e.capability !== "string") return undefined;
    if (e.arguments !== undefined && (typeof e.arguments !== "object" || e.arguments === null || Array.isArray(e.arguments)))
      return undefined;
    out.push(e as Subtask);
  }
  return out;
}

/** Starts everything that can start; finishes steps whose items are done; finishes the run. */
async function schedule(t: Transition): Promise<void> {
  for (let progress = true; progress && t.run.status === "running"; ) {
    progress = false;
    await flushContextWrites(t);
    for (const step of t.def.steps) {
      if (t.run.status !== "running") return;
      const s = t.state(step.step_id);
      if (s.status === "running" && s.items && s.phase !== "split" && s.phase !== "merge") {
        if (await pumpItems(t, step, s)) progress = true;
      } else if (s.status === "pending") {
        if (await maybeStart(t, step, s)) progress = true;
      }
    }
  }
  if (t.run.status !== "running") return;
  if (Object.values(t.run.steps).every((s) => isTerminal(s.status))) {
    let output: unknown;
    try {
      output = t.def.output !== undefined ? await render(t.def.output, t.scope()) : sinkOutputs(t);
    } catch (error) {
      t.finishRun("failed", { code: "VALIDATION_FAILED", message: `run output: ${(error as Error).message}` });
      return;
    }
    t.run.output = output;
    t.finishRun("completed");
  }
}

function sinkOutputs(t: Transition): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const step of t.def.steps) {
    if (t.primaries.has(step.step_id)) continue;
    if (!t.dependents.has(step.step_id)) out[step.step_id] = t.visibleOutput(step.step_id);
  }
  return out;
}

async function maybeStart(t: Transition, step: StepDefinition, s: StepState): Promise<boolean> {
  const id = step.step_id;
  // A fallback step runs only when a step that falls back to it failed.
  const primaries = t.primaries.get(id);
  if (primaries) {
    const states = primaries.map((p) => t.state(p).status);
    if (!states.includes("failed")) {
      if (states.every((st) => isTerminal(st))) {
        t.setStep(id, { status: "skipped", skipped_reason: "not needed: no step fell back to it" });
        return true;
      }
      return false;
    }
  }
  if (!step.depends_on.every((dep) => t.settled(dep))) return false;
  if (step.depends_on.length > 0 && step.depends_on.every((dep) => t.state(dep).status === "skipped")) {
    t.setStep(id, { status: "skipped", skipped_reason: "every dependency was skipped" });
    return true;
  }
  const scope = t.scope({}, step);
  try {
    if (step.when && !(await condition(step.when, scope))) {
      t.setStep(id, { status: "skipped", skipped_reason: "condition is false" });
      return true;
    }
  } catch (error) {
    t.failStep(id, { code: "VALIDATION_FAILED", message: `when: ${(error as Error).message}` });
    return true;
  }
  s.started_at = t.now;

  const fail = (message: string) => {
    t.failStep(id, { code: "VALIDATION_FAILED", message });
    return true;
  };

  if (step.foreach !== undefined) {
    const spec = typeof step.foreach === "string" ? { items: step.foreach } : step.foreach;
    let values: unknown;
    try {
      values = typeof spec.items === "string" ? await render(wrap(spec.items), scope) : spec.items;
    } catch (error) {
      return fail(`foreach: ${(error as Error).message}`);
    }
    if (values === null) values = [];
    if (!Array.isArray(values)) return fail("foreach: the expression must give a list");
    s.item_values = values;
    s.items = values.map(() => ({ status: "pending", attempts: 0 }));
    t.setStep(id, { status: "running" });
    await pumpItems(t, step, s);
    return true;
  }

  const kind = stepKind(step);
  if (kind === "participant" || kind === "approval") {
    t.setStep(id, { status: "waiting" });
    if (step.heartbeat_ms)
      t.actions.push({
        type: "timer",
        job_id: heartbeatTimerId(t.run.run_id, id, 0),
        delay_ms: step.heartbeat_ms,
        event: { type: "heartbeat_check", step_id: id, n: 0, since: t.now },
      });
    if (step.timeout_ms)
      t.actions.push({
        type: "timer",
        job_id: timerJobId(t.run.run_id, id),
        delay_ms: step.timeout_ms,
        event: { type: "step_timeout", step_id: id },
      });
    return true;
  }
  if (kind === "decompose" && step.decompose) {
    let args: Record<string, unknown>;
    try {
      args = (await render(step.decompose.arguments, scope)) as Record<string, unknown>;
    } catch (error) {
      return fail(`arguments: ${(error as Error).message}`);
    }
    s.phase = "split";
    t.setStep(id, { status: "running" });
    dispatch(t, step, step.decompose.tool, args, undefined, "split");
    return true;
  }
  if (kind === "workflow" && step.workflow) {
    let childInput: unknown;
    try {
      childInput = await render(step.arguments, scope);
    } catch (error) {
      return fail(`arguments: ${(error as Error).message}`);
    }
    t.setStep(id, { status: "running" });
    t.actions.push({
      type: "start_child",
      step_id: id,
      child_run_id: childRunId(t.run.run_id, id),
      workflow: step.workflow,
      input: childInput,
    });
    armTimer(t, step);
    return true;
  }
  let args: Record<string, unknown>;
  try {
    args = await stepArguments(step, scope);
  } catch (error) {
    return fail(`arguments: ${(error as Error).message}`);
  }
  t.setStep(id, { status: "running" });
  dispatch(t, step, toolOf(step), args, undefined);
  return true;
}

function wrap(expression: string): string {
  return expression.includes("{{") ? expression : `{{ ${expression} }}`;
}

function toolOf(step: StepDefinition): string {
  if (step.agent_run) return `${step.agent_run.agent}.agent_run`;
  // Capability-routed: the agent is chosen at dispatch; "*" stands for it.
  if (!step.tool && step.capability) return `*.${step.capability_tool ?? "agent_run"}`;
  return step.tool ?? "";
}

async function stepArguments(step: StepDefinition, scope: Scope): Promise<Record<string, unknown>> {
  if (step.agent_run) {
    const { agent: _agent, ...rest } = step.agent_run;
    return (await render({ ...rest, ...step.arguments }, scope)) as Record<string, unknown>;
  }
  return (await render(step.arguments, scope)) as Record<string, unknown>;
}

function armTimer(t: Transition, step: StepDefinition, item?: number): void {
  if (!step.timeout_ms) return;
  t.actions.push({
    type: "timer",
    job_id: timerJobId(t.run.run_id, step.step_id, item),
    delay_ms: step.timeout_ms,
    event: { type: "step_timeout", step_id: step.step_id, ...(item !== undefined ? { item } : {}) },
  });
}

function dispatch(
  t: Transition,
  step: StepDefinition,
  qualified: string,
  args: Record<string, unknown>,
  item: number | undefined,
  suffix?: "split" | "merge",
  capability?: string,
): void {
  const name = splitQualifiedToolName(qualified);
  const cap = capability ?? (name?.agent === "*" && suffix === undefined && !step.decompose ? step.capability : undefined);
  t.actions.push({
    type: "dispatch",
    ...(cap ? { capability: cap } : {}),
    step_id: step.step_id,
    ...(item !== undefined ? { item } : {}),
    job_id: stepJobId(t.run.run_id, step.step_id, suffix ?? item),
    agent: name?.agent ?? qualified,
    tool: name?.tool ?? "",
    arguments: args,
    attempts: step.retry?.attempts ?? 1,
    backoff_ms: step.retry?.backoff_ms ?? 1_000,
    ...(step.timeout_ms ? { timeout_ms: step.timeout_ms } : {}),
  });
  if (suffix === undefined) armTimer(t, step, item);
}

/**
 * Where a subtask runs: its own `tool`; else, when it names a `capability`, the least loaded agent
 * with it (chosen by the coordinator) and the step's `capability_tool`; else the step's `subtask_tool`.
 */
function subtaskTarget(step: StepDefinition, sub: Subtask, i: number): { tool: string; capability?: string } {
  if (sub.tool) return { tool: sub.tool };
  if (sub.capability) return { tool: `*.${step.decompose?.capability_tool ?? "agent_run"}`, capability: sub.capability };
  if (step.decompose?.subtask_tool) return { tool: step.decompose.subtask_tool };
  throw new Error(`subtask ${i} names no tool or capability and the step has no subtask_tool`);
}

/** Starts pending items up to the concurrency cap; completes the step when every item is done. */
async function pumpItems(t: Transition, step: StepDefinition, s: StepState): Promise<boolean> {
  const items = s.items ?? [];
  const values = s.item_values ?? [];
  let changed = false;
  const cap =
    (typeof step.foreach === "object" ? step.foreach.concurrency : undefined) ?? step.decompose?.concurrency ?? Number.POSITIVE_INFINITY;
  let running = items.filter((it) => it.status === "running").length;
  const firstAction = t.actions.length;
  for (let i = 0; i < items.length && running < cap; i++) {
    const it = items[i] as ItemState;
    if (it.status !== "pending") continue;
    const value = values[i];
    it.status = "running";
    it.started_at = t.now;
    running += 1;
    changed = true;
    t.note(step.step_id, "running", i);
    const scope = t.scope({ item: value, index: i }, step);
    try {
      if (step.decompose) {
        const target = subtaskTarget(step, (value ?? {}) as Subtask, i);
        dispatch(t, step, target.tool, ((value ?? {}) as Subtask).arguments ?? {}, i, undefined, target.capability);
      } else if (step.workflow) {
        const input = await render(step.arguments, scope);
        t.actions.push({
          type: "start_child",
          step_id: step.step_id,
          item: i,
          child_run_id: childRunId(t.run.run_id, step.step_id, i),
          workflow: step.workflow,
          input,
        });
        armTimer(t, step, i);
      } else {
        dispatch(t, step, toolOf(step), await stepArguments(step, scope), i);
      }
    } catch (error) {
      it.status = "failed";
      it.error = { code: "VALIDATION_FAILED", message: (error as Error).message };
      it.finished_at = t.now;
      running -= 1;
      t.note(step.step_id, "failed", i, it.error);
    }
  }
  if (isGroupStep(step)) groupDispatches(t.actions, firstAction, t.run.run_id, step.step_id);
  if (items.every((it) => isTerminal(it.status))) {
    const failed = items.findIndex((it) => it.status === "failed");
    if (failed >= 0) {
      const error = items[failed]?.error ?? { code: "TOOL_ERROR", message: "item failed" };
      t.failStep(step.step_id, { code: error.code, message: `item ${failed}: ${error.message}` });
      return true;
    }
    const outputs = items.map((it) => it.output ?? null);
    if (step.decompose) {
      const merge = step.decompose.merge;
      if (merge === "llm") {
        if (!step.decompose.merge_tool) {
          t.failStep(step.step_id, { code: "VALIDATION_FAILED", message: "merge: llm needs merge_tool" });
          return true;
        }
        s.phase = "merge";
        t.note(step.step_id, "merging");
        dispatch(t, step, step.decompose.merge_tool, { results: outputs, subtasks: values }, undefined, "merge");
        return true;
      }
      const output =
        merge === "object" ? Object.fromEntries(outputs.map((o, i) => [String((values[i] as Subtask | undefined)?.id ?? i), o])) : outputs;
      t.completeStep(step.step_id, output);
      return true;
    }
    t.completeStep(step.step_id, outputs);
    return true;
  }
  return changed;
}

/**
 * The side effects a run in this state should already have caused: jobs of running steps and
 * items, their timers, child runs, and the parent notification of a finished run. Carrying them
 * out again is harmless (deterministic job ids), so the coordinator does it when it sees a
 * redelivered event: the first delivery may have committed the state and died before acting.
 */
export async function reconcileActions(input: Omit<AdvanceInput, "event">): Promise<Action[]> {
  const run = structuredClone(input.run);
  const t = new Transition(run, input.definition, input.now, input.context);
  if (RUN_TERMINAL.has(run.status)) {
    return [{ type: "finished", status: run.status as "completed" | "failed" | "cancelled" }];
  }
  if (run.status === "pending") return [];
  if (t.def.deadline_ms)
    t.actions.push({
      type: "timer",
      job_id: `ddl.${run.run_id}`,
      delay_ms: Math.max(0, (run.started_at ?? input.now) + t.def.deadline_ms - input.now),
      event: { type: "deadline" },
    });
  for (const step of t.def.steps) {
    const s = t.state(step.step_id);
    const id = step.step_id;
    if (s.status === "waiting") {
      if (step.heartbeat_ms)
        t.actions.push({
          type: "timer",
          job_id: heartbeatTimerId(run.run_id, id, 0),
          delay_ms: step.heartbeat_ms,
          event: { type: "heartbeat_check", step_id: id, n: 0, since: s.started_at ?? input.now },
        });
      if (step.timeout_ms)
        t.actions.push({
          type: "timer",
          job_id: timerJobId(run.run_id, id),
          delay_ms: step.timeout_ms,
          event: { type: "step_timeout", step_id: id },
        });
      continue;
    }
    if (s.status !== "running") continue;
    try {
      if (step.decompose && s.phase === "split") {
        dispatch(
          t,
          step,
          step.decompose.tool,
          (await render(step.decompose.arguments, t.scope({}, step))) as Record<string, unknown>,
          undefined,
          "split",
        );
      } else if (step.decompose && s.phase === "merge" && step.decompose.merge_tool) {
        const outputs = (s.items ?? []).map((it) => it.output ?? null);
        dispatch(t, step, step.decompose.merge_tool, { results: outputs, subtasks: s.item_values ?? [] }, undefined, "merge");
      } else if (s.items) {
        const firstAction = t.actions.length;
        for (const [i, it] of s.items.entries()) {
          if (it.status !== "running") continue;
          const scope = t.scope({ item: s.item_values?.[i], index: i }, step);
          if (step.decompose) {
            const sub = (s.item_values?.[i] ?? {}) as Subtask;
            const target = subtaskTarget(step, sub, i);
            dispatch(t, step, target.tool, sub.arguments ?? {}, i, undefined, target.capability);
          } else if (step.workflow) {
            t.actions.push({
              type: "start_child",
              step_id: id,
              item: i,
              child_run_id: childRunId(run.run_id, id, i),
              workflow: step.workflow,
              input: await render(step.arguments, scope),
            });
          } else dispatch(t, step, toolOf(step), await stepArguments(step, scope), i);
        }
        if (isGroupStep(step)) groupDispatches(t.actions, firstAction, run.run_id, id);
      } else if (step.workflow) {
        t.actions.push({
          type: "start_child",
          step_id: id,
          child_run_id: childRunId(run.run_id, id),
          workflow: step.workflow,
          input: await render(step.arguments, t.scope({}, step)),
        });
      } else {
        dispatch(t, step, toolOf(step), await stepArguments(step, t.scope({}, step)), undefined);
      }
    } catch {
      // The first delivery rendered these arguments; a failure now cannot be acted on here.
    }
  }
  return t.actions;
}
