import { TenantId } from "@switchyard/core";
import { z } from "zod";

/** Step ids appear in job ids (`run.<run>.<step>.<item>`), so no dots, colons or spaces. */
export const STEP_ID_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
export const StepId = z.string().regex(STEP_ID_PATTERN, "must be a letter then letters, digits, '_' or '-' (max 63)");

/** Workflow names are part of URLs and Redis keys. */
export const WORKFLOW_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;
export const WorkflowName = z.string().regex(WORKFLOW_NAME_PATTERN, "must be lower-case letters, digits, '_' or '-' (max 63)");

export const RetryPolicy = z.strictObject({
  attempts: z.number().int().min(1).max(100).default(1),
  backoff_ms: z.number().int().min(0).max(600_000).default(1_000),
});
export type RetryPolicy = z.infer<typeof RetryPolicy>;

export const OnFailure = z.union([z.enum(["fail", "continue"]), z.strictObject({ fallback: StepId })]);
export type OnFailure = z.infer<typeof OnFailure>;

export const Foreach = z.union([
  z.string().min(1),
  z.strictObject({
    items: z.union([z.string().min(1), z.array(z.unknown())]),
    concurrency: z.number().int().min(1).max(10_000).optional(),
  }),
]);

export const AgentRunSpec = z.strictObject({
  agent: z.string().min(1),
  prompt: z.string().min(1),
  tools: z.array(z.string()).optional(),
  model: z.string().optional(),
  max_steps: z.number().int().min(1).max(100).optional(),
});

export const ApprovalSpec = z.strictObject({
  prompt: z.string().optional(),
  approvers: z.array(z.string()).optional(),
});

export const DecomposeSpec = z.strictObject({
  /** The splitting tool (`<agent>.<tool>`, an LLM's structured-output tool or any deterministic one). */
  tool: z.string().min(3),
  arguments: z.record(z.string(), z.unknown()).default({}),
  /** Tool that runs each subtask when a subtask names neither a tool nor a capability. */
  subtask_tool: z.string().min(3).optional(),
  /** For subtasks that name a `capability`: the tool called on the agent chosen for it. */
  capability_tool: z.string().min(1).optional(),
  merge: z.enum(["concat", "object", "llm"]).default("concat"),
  /** For `merge: llm`: the tool that merges (it receives `{ results }`). */
  merge_tool: z.string().min(3).optional(),
  concurrency: z.number().int().min(1).max(10_000).optional(),
});

/** One step. Exactly one of tool / agent_run / assigned_* / approval / workflow / decompose says what it does. */
export const StepDefinition = z
  .strictObject({
    step_id: StepId,
    description: z.string().max(2_000).optional(),
    depends_on: z.array(StepId).default([]),
    tool: z.string().min(3).optional(),
    /** Route the step to the least loaded agent with this capability (config `capabilities`). */
    capability: z.string().min(1).optional(),
    /** The tool called on that agent (default `agent_run`). */
    capability_tool: z.string().min(1).optional(),
    arguments: z.record(z.string(), z.unknown()).default({}),
    agent_run: AgentRunSpec.optional(),
    assigned_role: z.string().min(1).optional(),
    assigned_agent_id: z.string().min(1).optional(),
    approval: ApprovalSpec.optional(),
    workflow: WorkflowName.optional(),
    decompose: DecomposeSpec.optional(),
    retry: RetryPolicy.optional(),
    /** Participant steps: fail with TIMEOUT when no heartbeat arrives for this long. */
    heartbeat_ms: z.number().int().min(100).max(86_400_000).optional(),
    timeout_ms: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400_000)
      .optional(),
    when: z.string().min(1).optional(),
    on_failure: OnFailure.default("fail"),
    foreach: Foreach.optional(),
    /** Context paths this step reads (`variables.customer`); exposed to templates as `context`. */
    context: z.array(z.string().min(1)).optional(),
    /** Writes into the run's context document after the step completes: path → template. */
    context_write: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((step, ctx) => {
    const kinds = [
      step.tool || step.capability ? "tool" : undefined,
      step.agent_run ? "agent_run" : undefined,
      step.assigned_role || step.assigned_agent_id ? "participant" : undefined,
      step.approval ? "approval" : undefined,
      step.workflow ? "workflow" : undefined,
      step.decompose ? "decompose" : undefined,
    ].filter(Boolean);
    if (kinds.length !== 1)
      ctx.addIssue({
        code: "custom",
        message:
          kinds.length === 0
            ? "a step needs one of tool, capability, agent_run, assigned_role, assigned_agent_id, approval, workflow, decompose"
            : `a step has exactly one kind; got ${kinds.join(" and ")}`,
      });
  });
export type StepDefinition = z.infer<typeof StepDefinition>;

/** Body of `POST /api/v1/workflows` (JSON or YAML). */
export const WorkflowDefinition = z.strictObject({
  name: WorkflowName,
  description: z.string().max(4_000).optional(),
  input_schema: z.record(z.string(), z.unknown()).optional(),
  /** The whole run must finish within this budget (a durable timer). */
  deadline_ms: z
    .number()
    .int()
    .min(1)
    .max(30 * 86_400_000)
    .optional(),
  /** Output of the run: a template over `steps` and `input`; default: outputs of the sink steps. */
  output: z.unknown().optional(),
  steps: z.array(StepDefinition).min(1).max(5_000),
});
export type WorkflowDefinition = z.infer<typeof WorkflowDefinition>;

/** A stored version of a workflow. */
export const StoredWorkflow = z.object({
  name: WorkflowName,
  version: z.number().int().min(1),
  tenant: TenantId,
  created_at: z.number().int(),
  definition: WorkflowDefinition,
});
export type StoredWorkflow = z.infer<typeof StoredWorkflow>;

export type StepKind = "tool" | "agent_run" | "participant" | "approval" | "workflow" | "decompose";

export function stepKind(step: StepDefinition): StepKind {
  if (step.agent_run) return "agent_run";
  if (step.assigned_role || step.assigned_agent_id) return "participant";
  if (step.approval) return "approval";
  if (step.workflow) return "workflow";
  if (step.decompose) return "decompose";
  return "tool";
}

// ---------------------------------------------------------------------------------------------
// Run state: one JSON document per run, changed only through the state machine.

export const RUN_STATUSES = ["pending", "running", "completed", "failed", "cancelled"] as const;
export const RunStatus = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatus>;

export const STEP_STATUSES = ["pending", "running", "waiting", "completed", "failed", "skipped", "cancelled"] as const;
export const StepStatus = z.enum(STEP_STATUSES);
export type StepStatus = z.infer<typeof StepStatus>;

export const StepError = z.object({ code: z.string(), message: z.string() });
export type StepError = z.infer<typeof StepError>;

export const ItemState = z.object({
  status: StepStatus,
  output: z.unknown().optional(),
  error: StepError.optional(),
  attempts: z.number().int().default(0),
  started_at: z.number().int().optional(),
  finished_at: z.number().int().optional(),
});
export type ItemState = z.infer<typeof ItemState>;

/** A step: an item's state, plus what fan-out, decomposition and participants add. */
export const StepState = ItemState.extend({
  /** foreach / decompose: the list fanned out over and one state per item. */
  items: z.array(ItemState).optional(),
  item_values: z.array(z.unknown()).optional(),
  /** decompose: phase of the step ("split" → "run" → "merge"). */
  phase: z.enum(["split", "run", "merge"]).optional(),
  /** Who completed a participant/approval step. */
  completed_by: z.string().optional(),
  skipped_reason: z.string().optional(),
});
export type StepState = z.infer<typeof StepState>;

export const RunParent = z.object({ run_id: z.string(), step_id: z.string(), item: z.number().int().optional() });

export const RunState = z.object({
  v: z.literal(1),
  run_id: z.string(),
  tenant: TenantId,
  workflow: WorkflowName,
  version: z.number().int(),
  status: RunStatus,
  input: z.unknown(),
  output: z.unknown().optional(),
  error: StepError.optional(),
  created_at: z.number().int(),
  started_at: z.number().int().optional(),
  finished_at: z.number().int().optional(),
  created_by: z.string().optional(),
  parent: RunParent.optional(),
  steps: z.record(z.string(), StepState),
  /** Monotonic count of applied events (SSE ids, optimistic concurrency). */
  seq: z.number().int(),
});
export type RunState = z.infer<typeof RunState>;

/** Events the state machine consumes. All are idempotent: a redelivered one changes nothing. */
export const RunEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("start") }),
  z.object({
    type: z.literal("step_done"),
    step_id: z.string(),
    item: z.number().int().optional(),
    output: z.unknown(),
    attempts: z.number().int().optional(),
  }),
  z.object({
    type: z.literal("step_failed"),
    step_id: z.string(),
    item: z.number().int().optional(),
    error: StepError,
    attempts: z.number().int().optional(),
  }),
  z.object({ type: z.literal("step_timeout"), step_id: z.string(), item: z.number().int().optional() }),
  /** Timer: has the participant heartbeated since `since`? (resolved by the coordinator) */
  z.object({ type: z.literal("heartbeat_check"), step_id: z.string(), n: z.number().int(), since: z.number().int() }),
  z.object({ type: z.literal("heartbeat_lost"), step_id: z.string(), item: z.number().int().optional() }),
  z.object({
    type: z.literal("report"),
    step_id: z.string(),
    outcome: z.enum(["complete", "fail"]),
    output: z.unknown().optional(),
    error: StepError.optional(),
    by: z.string().optional(),
  }),
  /** Every subtask of a decompose step's merge parent finished (one event for the whole group). */
  z.object({
    type: z.literal("group_done"),
    step_id: z.string(),
    results: z.array(
      z.object({
        item: z.number().int(),
        output: z.unknown().optional(),
        error: StepError.optional(),
        attempts: z.number().int().optional(),
      }),
    ),
  }),
  z.object({ type: z.literal("cancel"), reason: z.string().optional() }),
  z.object({ type: z.literal("deadline") }),
]);
export type RunEvent = z.infer<typeof RunEvent>;

/** What a step transition looks like on the run's event stream (SSE). */
export interface StepTransition {
  seq: number;
  at: number;
  run_id: string;
  kind: "run" | "step";
  step_id?: string;
  item?: number;
  status: string;
  error?: StepError;
}
