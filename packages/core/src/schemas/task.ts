import { z } from "zod";
import { AgentName, TenantId, ToolName } from "../names.js";

export const TASK_STATUSES = ["queued", "running", "completed", "failed", "cancelled"] as const;
export const TaskStatus = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatus>;

export const TaskArguments = z.record(z.string(), z.unknown());
export type TaskArguments = z.infer<typeof TaskArguments>;

/** Priority 1 is the highest and the default; larger numbers wait behind smaller ones. */
export const MAX_PRIORITY = 1_000;
export const Priority = z.number().int().min(1).max(MAX_PRIORITY);

/**
 * The BullMQ job payload of a task: written by the api, read by workers. Version it so a rolling
 * deploy with old and new workers can tell what it is reading.
 */
export const TaskJobData = z.object({
  v: z.literal(1),
  task_id: z.string(),
  tenant: TenantId,
  agent: AgentName,
  tool: ToolName,
  arguments: TaskArguments,
  timeout_ms: z.number().int().positive(),
  priority: Priority,
  created_at: z.number().int(),
  /** Short, non-secret id of the API key that submitted the task (for audit). */
  submitted_by: z.string().optional(),
});
export type TaskJobData = z.infer<typeof TaskJobData>;

/** Capabilities are free-form labels agents declare in config ("chat", "files"…). */
export const Capability = z.string().min(1).max(64);

/** A client-chosen key that makes a submission safe to retry. */
export const IdempotencyKey = z.string().min(1).max(255);

/** Body of `POST /api/v1/tasks`: exactly one of `agent_name` or `capability`. */
export const SubmitTaskRequest = z
  .strictObject({
    agent_name: AgentName.optional().describe("Run on this agent."),
    capability: Capability.optional().describe("Run on the least-loaded healthy agent with this capability."),
    tool_name: ToolName,
    arguments: TaskArguments.default({}),
    priority: Priority.optional().describe("1 is the highest (and the default)."),
    timeout_ms: z.number().int().min(1).max(86_400_000).optional(),
    max_attempts: z.number().int().min(1).max(100).optional(),
    idempotency_key: IdempotencyKey.optional().describe("Same as the Idempotency-Key header."),
  })
  .superRefine((value, ctx) => {
    if (value.agent_name === undefined && value.capability === undefined)
      ctx.addIssue({ code: "custom", path: ["agent_name"], message: "required" });
    else if (value.agent_name !== undefined && value.capability !== undefined)
      ctx.addIssue({ code: "custom", path: ["capability"], message: "give agent_name or capability, not both" });
  });
export type SubmitTaskRequest = z.infer<typeof SubmitTaskRequest>;

export const TaskErrorView = z.object({
  code: z.string(),
  message: z.string(),
});

/** A task as the API returns it. */
export const TaskView = z.object({
  task_id: z.string(),
  agent_name: z.string(),
  tool_name: z.string(),
  status: TaskStatus,
  priority: z.number().int(),
  arguments: TaskArguments,
  result: z.unknown().optional(),
  error: TaskErrorView.optional(),
  attempts: z.number().int(),
  max_attempts: z.number().int(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
});
export type TaskView = z.infer<typeof TaskView>;

export const SubmitTaskResponse = z.object({
  task_id: z.string(),
  status: TaskStatus,
  /** The agent that runs it (chosen by the scheduler when submitted by capability). */
  agent_name: z.string(),
});
export type SubmitTaskResponse = z.infer<typeof SubmitTaskResponse>;

/**
 * Published on the task cancel channel (`<prefix>:tasks:cancel`) by whoever cancels a running
 * task (the api, the workflow engine); every worker hears it and the one running it aborts it.
 */
export const TaskCancelRequest = z.object({ agent: AgentName, task_id: z.string().min(1) });
export type TaskCancelRequest = z.infer<typeof TaskCancelRequest>;
