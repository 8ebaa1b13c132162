import { NonRetryableError, newId } from "@switchyard/core";
import { Ajv } from "ajv";
import type { JobsOptions } from "bullmq";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { ContextHistoryEntry, ContextStore } from "./context-store.js";
import { newRunState } from "./machine.js";
import type { RunStore } from "./run-store.js";
import { type RunEvent, type RunState, type StepError, type StoredWorkflow, stepKind, WorkflowDefinition } from "./schema.js";
import { assertValid, toolsOf, type ValidationContext } from "./validate.js";

/** Coordinator job names the workflow engine uses (the coordinator's job catalog). */
export const WORKFLOW_JOBS = {
  /** `{run_id}`: start a run. */
  start: "wf-start",
  /** Flow parent of one step's task job: runs when its child completes or finally fails. */
  step: "wf-step",
  /** `{run_id, event}`: any other event (cancel, report, timer, child run finished). */
  event: "wf-event",
} as const;

export const WorkflowJobData = z.object({
  run_id: z.string(),
  step_id: z.string().optional(),
  item: z.number().int().optional(),
  agent: z.string().optional(),
  /** A decompose step's merge parent (all subtasks are its children). */
  group: z.boolean().optional(),
  event: z.unknown().optional(),
});
export type WorkflowJobData = z.infer<typeof WorkflowJobData>;

/** Options of every coordinator job: retried (a Redis blip must not lose an event), then trimmed. */
export const COORDINATOR_JOB_OPTIONS: JobsOptions = {
  attempts: 20,
  backoff: { type: "exponential", delay: 200 },
  removeOnComplete: true,
  removeOnFail: { age: 7 * 86_400 },
};

export interface CoordinatorProducer {
  add(name: string, data: WorkflowJobData, opts?: JobsOptions): Promise<unknown>;
}

export interface WorkflowActor {
  tenant: string;
  key_id: string;
  agent_id?: string | undefined;
}

export interface WorkflowServiceDeps {
  store: RunStore;
  contexts: ContextStore;
  coordinator: CoordinatorProducer;
  /** Checks `<agent>.<tool>` exists for the tenant; returns why not, else undefined. */
  checkTool: (tenant: string, qualified: string) => Promise<string | undefined>;
  /** Checks some agent visible to the tenant has the capability; returns why not, else undefined. */
  checkCapability?: (tenant: string, capability: string) => string | undefined;
}

export const StartRunRequest = z.strictObject({
  input: z.unknown().optional(),
  /** The run's initial context document (version 1). */
  context: z.record(z.string(), z.unknown()).optional(),
  version: z.number().int().min(1).optional(),
});

export const ReportStepRequest = z.strictObject({
  output: z.unknown().optional(),
  error: z.strictObject({ code: z.string().min(1).max(64), message: z.string().max(4_000) }).optional(),
  message: z.string().max(4_000).optional(),
});

/** Parses a definition from a JSON object or a YAML/JSON text. */
export function parseDefinition(body: unknown): WorkflowDefinition {
  let value = body;
  if (typeof body === "string") {
    try {
      value = parseYaml(body);
    } catch (error) {
      throw new NonRetryableError("VALIDATION_FAILED", `definition is not valid YAML: ${(error as Error).message}`);
    }
  }
  const parsed = WorkflowDefinition.safeParse(value);
  if (!parsed.success) {
    const [first] = parsed.error.issues;
    const where = first?.path.map(String).join(".") ?? "";
    throw new NonRetryableError("VALIDATION_FAILED", `${where ? `${where}: ` : ""}${first?.message ?? "invalid definition"}`, {
      details: { issues: parsed.error.issues.map((i) => ({ field: i.path.map(String).join("."), message: i.message })) },
    });
  }
  return parsed.data;
}

/**
 * Workflow operations for the api (REST routes and orchestration tools): define, start, read,
 * cancel, report. It never changes a run's state itself: it asks the coordinator with a job, so
 * every transition goes through the one state machine.
 */
export class WorkflowService {
  private readonly ajv = new Ajv({ strict: false, allErrors: false });

  constructor(private readonly deps: WorkflowServiceDeps) {}

  get store(): RunStore {
    return this.deps.store;
  }

  async define(actor: WorkflowActor, body: unknown): Promise<{ name: string; version: number; created: boolean }> {
    const definition = parseDefinition(body);
    const tools = new Map<string, string | undefined>();
    for (const step of definition.steps)
      for (const tool of toolsOf(step)) if (!tools.has(tool)) tools.set(tool, await this.deps.checkTool(actor.tenant, tool));
    const known = new Set(await this.deps.store.workflows(actor.tenant));
    known.add(definition.name);
    const context: ValidationContext = {
      checkTool: (tool) => tools.get(tool),
      checkCapability: (capability) => this.deps.checkCapability?.(actor.tenant, capability),
      workflowExists: (name) => known.has(name),
    };
    assertValid(definition, context);
    const { version, created } = await this.deps.store.define(actor.tenant, definition);
    return { name: definition.name, version, created };
  }

  async workflow(actor: WorkflowActor, name: string, version?: number): Promise<StoredWorkflow> {
    const found = await this.deps.store.workflow(actor.tenant, name, version);
    if (!found) throw new NonRetryableError("NOT_FOUND", `no workflow '${name}'${version ? ` version ${version}` : ""}`);
    return found;
  }

  async workflows(actor: WorkflowActor): Promise<Array<{ name: string; latest_version: number }>> {
    const names = await this.deps.store.workflows(actor.tenant);
    return Promise.all(names.map(async (name) => ({ name, latest_version: await this.deps.store.versions(actor.tenant, name) })));
  }

  async start(
    actor: WorkflowActor,
    name: string,
    request: z.infer<typeof StartRunRequest>,
    idempotencyKey?: string,
  ): Promise<{ run_id: string; status: string; created: boolean }> {
    if (idempotencyKey !== undefined && !/^[A-Za-z0-9_.-]{1,128}$/.test(idempotencyKey))
      throw new NonRetryableError("VALIDATION_FAILED", "Idempotency-Key must be 1-128 of letters, digits, '_', '-', '.'");
    const stored = await this.workflow(actor, name, request.version);
    const input = request.input ?? {};
    const schema = stored.definition.input_schema;
    if (schema) {
      const validate = this.ajv.compile(schema);
      if (!validate(input)) {
        const [first] = validate.errors ?? [];
        throw new NonRetryableError("VALIDATION_FAILED", `input${first?.instancePath ?? ""}: ${first?.message ?? "invalid"}`);
      }
    }
    const state = newRunState({
      run_id: newId("run"),
      tenant: actor.tenant,
      workflow: stored.name,
      version: stored.version,
      definition: stored.definition,
      input,
      now: Date.now(),
      created_by: actor.key_id,
    });
    const { run_id, created } = await this.deps.store.create(state, idempotencyKey);
    if (created && request.context) await this.deps.contexts.write(actor.tenant, run_id, "start", request.context);
    // Enqueued on every call (a no-op for a known job id), so a crash between the two writes is
    // healed by the client's retry with the same idempotency key.
    await this.deps.coordinator.add(WORKFLOW_JOBS.start, { run_id }, { ...COORDINATOR_JOB_OPTIONS, jobId: `start.${run_id}` });
    const current = created ? state : (await this.deps.store.load(run_id))?.state;
    return { run_id, status: current?.status ?? "pending", created };
  }

  async run(actor: WorkflowActor, runId: string): Promise<RunState> {
    const stored = /^run_[0-9a-z]{26}(-[A-Za-z0-9_-]+)*$/.test(runId) ? await this.deps.store.load(runId) : undefined;
    // Another tenant's run is indistinguishable from a missing one.
    if (!stored || stored.state.tenant !== actor.tenant) throw new NonRetryableError("NOT_FOUND", `no run ${runId}`);
    return stored.state;
  }

  /** The run's context document at a version (default: latest), with its history. */
  async context(
    actor: WorkflowActor,
    runId: string,
    version?: number,
  ): Promise<{ run_id: string; version: number; document: Record<string, unknown>; history: ContextHistoryEntry[] }> {
    await this.run(actor, runId);
    const found = await this.deps.contexts.read(actor.tenant, runId, version);
    if (!found) throw new NonRetryableError("NOT_FOUND", `run ${runId} has no context version ${version}`);
    return { run_id: runId, ...found, history: await this.deps.contexts.history(actor.tenant, runId) };
  }

  async cancel(actor: WorkflowActor, runId: string, reason?: string): Promise<RunState> {
    const run = await this.run(actor, runId);
    if (run.status === "completed" || run.status === "failed" || run.status === "cancelled")
      throw new NonRetryableError("CONFLICT", `run ${runId} already ${run.status}`);
    const event: RunEvent = { type: "cancel", reason: reason ?? `cancelled by ${actor.key_id}` };
    await this.deps.coordinator.add(
      WORKFLOW_JOBS.event,
      { run_id: runId, event },
      { ...COORDINATOR_JOB_OPTIONS, jobId: `cancel.${runId}` },
    );
    return run;
  }

  /** A participant agent's heartbeat on its waiting step (steps with `heartbeat_ms`). */
  async heartbeat(actor: WorkflowActor, runId: string, stepId: string): Promise<{ run_id: string; step_id: string; at: number }> {
    const run = await this.run(actor, runId);
    const stored = await this.workflow(actor, run.workflow, run.version);
    const step = stored.definition.steps.find((s) => s.step_id === stepId);
    if (!step || !run.steps[stepId]) throw new NonRetryableError("NOT_FOUND", `run ${runId} has no step '${stepId}'`);
    if (step.assigned_agent_id && actor.agent_id && actor.agent_id !== step.assigned_agent_id)
      throw new NonRetryableError("FORBIDDEN", `step '${stepId}' is assigned to ${step.assigned_agent_id}`);
    if (run.steps[stepId]?.status !== "waiting") throw new NonRetryableError("CONFLICT", `step '${stepId}' is not waiting`);
    const at = Date.now();
    await this.deps.store.heartbeat(runId, stepId, at);
    return { run_id: runId, step_id: stepId, at };
  }

  /** `report_step_completion` / `report_step_failure` for participant and approval steps. */
  async report(
    actor: WorkflowActor,
    runId: string,
    stepId: string,
    outcome: "complete" | "fail",
    body: z.infer<typeof ReportStepRequest>,
  ): Promise<{ run_id: string; step_id: string; accepted: true }> {
    const run = await this.run(actor, runId);
    const stored = await this.workflow(actor, run.workflow, run.version);
    const step = stored.definition.steps.find((s) => s.step_id === stepId);
    const state = run.steps[stepId];
    if (!step || !state) throw new NonRetryableError("NOT_FOUND", `run ${runId} has no step '${stepId}'`);
    const kind = stepKind(step);
    if (kind !== "participant" && kind !== "approval")
      throw new NonRetryableError("CONFLICT", `step '${stepId}' is a ${kind} step; only participant and approval steps are reported`);
    if (step.assigned_agent_id && actor.agent_id && actor.agent_id !== step.assigned_agent_id)
      throw new NonRetryableError("FORBIDDEN", `step '${stepId}' is assigned to ${step.assigned_agent_id}`);
    if (state.status !== "waiting") throw new NonRetryableError("CONFLICT", `step '${stepId}' is ${state.status}, not waiting`);
    const error: StepError | undefined =
      outcome === "fail"
        ? (body.error ?? { code: "TOOL_ERROR", message: body.message ?? (kind === "approval" ? "rejected" : "failed") })
        : undefined;
    const event: RunEvent = {
      type: "report",
      step_id: stepId,
      outcome,
      ...(outcome === "complete" ? { output: body.output ?? (kind === "approval" ? { approved: true } : null) } : {}),
      ...(error ? { error } : {}),
      by: actor.agent_id ?? actor.key_id,
    };
    await this.deps.coordinator.add(
      WORKFLOW_JOBS.event,
      { run_id: runId, event },
      { ...COORDINATOR_JOB_OPTIONS, jobId: `report.${runId}.${stepId}` },
    );
    return { run_id: runId, step_id: stepId, accepted: true };
  }
}
