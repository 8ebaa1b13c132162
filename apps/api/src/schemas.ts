import { AgentConfig } from "@switchyard/config";
import {
  AgentName,
  IdempotencyKey,
  JsonSchemaObject,
  Priority,
  TaskArguments,
  TaskProgressEvent,
  TaskStatus,
  TaskView,
  ToolName,
  ToolView,
} from "@switchyard/core";
import { AuditEntry } from "@switchyard/store";
import { z } from "zod";

/** Schemas of the REST API that are not shared with other processes (those live in core). */

export const AGENT_STATUSES = ["available", "busy", "degraded", "offline"] as const;

export const AgentLoadView = z.object({
  active: z.number().int().describe("Tasks running now"),
  queued: z.number().int().describe("Tasks waiting, including delayed retries"),
  capacity: z.number().int().describe("Concurrency × live workers"),
});

export const AgentView = z.object({
  name: z.string(),
  type: z.string(),
  source: z.enum(["config", "registry", "worker"]),
  description: z.string(),
  status: z.enum(AGENT_STATUSES),
  capabilities: z.array(z.string()),
  tools: z.number().int().describe("Number of tools the agent offers"),
  workers: z.number().int().describe("Live worker processes serving it"),
  concurrency: z.number().int(),
  load: AgentLoadView,
  circuit: z
    .record(
      z.string(),
      z.object({
        state: z.enum(["closed", "open", "half_open"]),
        failures: z.number().int(),
        open_until: z.number().int(),
        opened: z.number().int(),
      }),
    )
    .optional()
    .describe("Provider agents: each model's circuit breaker"),
});
export type AgentView = z.infer<typeof AgentView>;

export const AgentList = z.object({ agents: z.array(AgentView) });

export const RegisterAgentRequest = z.strictObject({
  name: AgentName,
  config: AgentConfig.describe("The agent's settings, exactly as under `agents.<name>` in the config file"),
});

export const ListTasksQuery = z.strictObject({
  agent: z.string().max(63).optional(),
  status: TaskStatus.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(64).optional(),
});

export const TaskList = z.object({ tasks: z.array(TaskView), next_cursor: z.string().nullable() });

export const SubmitTaskReply = z.object({
  task_id: z.string(),
  status: TaskStatus,
  agent_name: z.string(),
});

export const CancelReply = TaskView.extend({
  cancel_requested: z.boolean().optional().describe("A running task: its worker was asked to abort it"),
});

export const ToolList = z.object({ tools: z.array(ToolView) });

export const ToolsByAgent = z.object({
  agents: z.array(
    z.object({
      agent: z.string(),
      description: z.string(),
      tools: z.array(z.object({ name: ToolName, description: z.string(), input_schema: JsonSchemaObject })),
    }),
  ),
});

const invokeOptions = {
  wait_ms: z.number().int().min(0).max(300_000).optional().describe("How long to wait for the result before answering 202"),
  timeout_ms: z.number().int().min(1).max(86_400_000).optional(),
  priority: Priority.optional(),
  max_attempts: z.number().int().min(1).max(100).optional(),
  idempotency_key: IdempotencyKey.optional(),
};

export const InvokeToolRequest = z.strictObject({ arguments: TaskArguments.default({}), ...invokeOptions });

export const ExecuteToolRequest = z.strictObject({
  tool: z.string().min(3).max(200).describe("Qualified tool name: <agent>.<tool>"),
  params: TaskArguments.default({}),
  ...invokeOptions,
});

export const InvokeResult = z.object({ task_id: z.string(), status: z.literal("completed"), result: z.unknown() });
export const InvokePending = z.object({ task_id: z.string(), status: TaskStatus });

export const AuditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
  cursor: z
    .string()
    .regex(/^\d{1,20}-\d{1,20}$/)
    .optional(),
});

export const AuditList = z.object({
  entries: z.array(AuditEntry),
  next_cursor: z.string().nullable(),
});

/** What `GET /tasks/{id}/events` sends, one SSE event each (`event:` is the type). */
export const TaskStreamEvent = z.union([
  z.object({ event: z.literal("status"), data: TaskView }),
  z.object({ event: z.literal("progress"), data: TaskProgressEvent }),
]);

export const CreateApiKeyRequest = z.strictObject({
  role: z.enum(["admin", "operator", "viewer"]),
  name: z.string().min(1).max(100).optional(),
  rate_limit: z.strictObject({ requests_per_second: z.number().int().min(0), burst: z.number().int().min(1) }).optional(),
});

export const ApiKeyView = z.object({
  id: z.string().describe("Non-secret key id (a prefix of the key's SHA-256)"),
  tenant: z.string(),
  role: z.enum(["admin", "operator", "viewer"]),
  name: z.string().optional(),
  rate_limit: z.object({ requests_per_second: z.number().int(), burst: z.number().int() }).optional(),
  created_at: z.number().int(),
  created_by: z.string(),
});

export const CreatedApiKey = ApiKeyView.extend({ key: z.string().describe("The key itself: shown this once, stored only hashed") });
export const ApiKeyList = z.object({ keys: z.array(ApiKeyView) });
