import type { z } from "zod";
import type { Role } from "./names.js";

/** Who is calling an orchestration tool, as the api authenticated them. */
export interface ToolActor {
  tenant: string;
  role: Role;
  /** Non-secret id of the API key used. */
  key_id: string;
  /** Set when the key belongs to a registered participant agent. */
  agent_id?: string | undefined;
}

/**
 * A Switchyard operation offered to clients both as a REST endpoint and as an MCP tool on
 * `/mcp` (submit_task, register_agent, acquire_file_lock…). The zod `input` schema is the single
 * source of truth: it validates REST bodies, is converted to the MCP tool's JSON Schema, and
 * types the handler. Handlers throw `SwitchyardError`s; the REST and MCP adapters map them.
 */
export interface OrchestrationTool<Input extends z.ZodType = z.ZodType, Output = unknown> {
  /** snake_case MCP tool name, e.g. `submit_task`. */
  name: string;
  description: string;
  input: Input;
  /** Lowest role allowed to call it. */
  role: Role;
  /** True for tools that change nothing (MCP `readOnlyHint`). */
  readOnly?: boolean;
  handler(actor: ToolActor, input: z.infer<Input>, signal?: AbortSignal): Promise<Output>;
}

/** Helps TypeScript infer `Input` from the schema when declaring a tool. */
export function defineTool<Input extends z.ZodType, Output>(tool: OrchestrationTool<Input, Output>): OrchestrationTool<Input, Output> {
  return tool;
}
