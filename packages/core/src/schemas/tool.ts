import { z } from "zod";
import { AgentName, ToolName } from "../names.js";

/** A JSON Schema object as MCP and providers describe tool inputs. Kept opaque on purpose. */
export const JsonSchemaObject = z.record(z.string(), z.unknown());
export type JsonSchemaObject = z.infer<typeof JsonSchemaObject>;

/** What an agent client says about one of its tools (agent-local name). */
export const ToolDescriptor = z.object({
  name: ToolName,
  description: z.string().default(""),
  input_schema: JsonSchemaObject.default({ type: "object" }),
  annotations: z.record(z.string(), z.unknown()).optional(),
});
export type ToolDescriptor = z.infer<typeof ToolDescriptor>;

export const McpResourceDescriptor = z.object({
  uri: z.string(),
  name: z.string(),
  description: z.string().optional(),
  mime_type: z.string().optional(),
});
export type McpResourceDescriptor = z.infer<typeof McpResourceDescriptor>;

export const McpPromptDescriptor = z.object({
  name: z.string(),
  description: z.string().optional(),
  arguments: z.array(z.object({ name: z.string(), description: z.string().optional(), required: z.boolean().optional() })).optional(),
});
export type McpPromptDescriptor = z.infer<typeof McpPromptDescriptor>;

/**
 * One agent's tool list as a worker publishes it to Redis (read back by the api): crosses a
 * process boundary, so it is validated when read.
 */
export const CatalogEntry = z.object({
  agent: AgentName,
  agent_type: z.string(),
  tools: z.array(ToolDescriptor),
  updated_at: z.number().int(),
  worker_id: z.string(),
  /** Tool-name prefix when the agent sets `namespace`; the agent name otherwise. */
  namespace: AgentName.optional(),
  /** Tenants the agent is limited to (from its config); shared by all when absent. */
  tenants: z.array(z.string()).optional(),
  description: z.string().optional(),
  /** The agent's own task defaults, for api replicas that do not have it in their config. */
  timeout_ms: z.number().int().positive().optional(),
  max_attempts: z.number().int().positive().optional(),
  /** MCP resources and prompts the agent lists (names and descriptions only). */
  resources: z.array(McpResourceDescriptor).optional(),
  prompts: z.array(McpPromptDescriptor).optional(),
});
export type CatalogEntry = z.infer<typeof CatalogEntry>;

/** A tool as the API shows it. */
export const ToolView = z.object({
  name: z.string().describe("Qualified name: <agent>.<tool>"),
  agent: z.string(),
  tool: z.string(),
  description: z.string(),
  input_schema: JsonSchemaObject,
});
export type ToolView = z.infer<typeof ToolView>;
