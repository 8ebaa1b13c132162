import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import type { SwitchyardConfig } from "@switchyard/config";
import { type OrchestrationTool, safeToolName, splitSafeToolName, type ToolActor, toSwitchyardError } from "@switchyard/core";
import type { CatalogCache, LiveEntry } from "@switchyard/store";
import { agentVisibleTo, type CallOutcome, type TaskCalls } from "@switchyard/tasks";
import { z } from "zod";
import { roleAtLeast } from "../auth.js";
import type { OrchestrationToolRegistry } from "./orchestration-registry.js";

export interface McpFacadeDeps {
  config: SwitchyardConfig;
  catalog: CatalogCache;
  calls: TaskCalls;
  orchestration: OrchestrationToolRegistry;
}

const INSTRUCTIONS =
  "Switchyard aggregates the tools of many agents. Agent tools are named <agent>__<tool> (the REST API's <agent>.<tool>); " +
  "calling one queues a task and returns its result when it finishes. Orchestration tools (list_agents, submit_task, get_task, …) have no '__'.";

/**
 * The SDK builds a new Ajv (and its formats) for every Server it constructs unless given one; a
 * server per request makes that most of a tools/call's CPU, so every request shares this one.
 */
const jsonSchemaValidator = new AjvJsonSchemaValidator();

/**
 * One MCP `Server` for one request (stateless Streamable HTTP): everything it needs comes from
 * Redis through the injected services, so any api replica can answer any request of a session.
 */
export function createMcpServer(deps: McpFacadeDeps, actor: ToolActor): Server {
  const server = new Server(
    { name: "switchyard", version: "0.1.0" },
    {
      capabilities: { tools: {} },
      instructions: INSTRUCTIONS,
      jsonSchemaValidator,
    },
  );

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    const tools: Tool[] = deps.orchestration
      .list()
      .filter((tool) => roleAtLeast(actor.role, tool.role))
      .map(orchestrationToolView);
    for (const entry of await visibleEntries(deps, actor)) {
      const prefix = entry.namespace ?? entry.agent;
      for (const tool of entry.tools) {
        tools.push({
          name: safeToolName(prefix, tool.name),
          description: tool.description,
          inputSchema: { type: "object", ...tool.input_schema } as Tool["inputSchema"],
          ...(tool.annotations ? { annotations: tool.annotations as Tool["annotations"] } : {}),
        });
      }
    }
    return { tools };
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const { name, arguments: args = {} } = request.params;
    const orchestrationTool = deps.orchestration.get(name);
    if (orchestrationTool) return callOrchestrationTool(orchestrationTool, actor, args, extra.signal);

    const split = splitSafeToolName(name);
    const entry = split ? (await visibleEntries(deps, actor)).find((e) => (e.namespace ?? e.agent) === split.agent) : undefined;
    if (!split || !entry?.tools.some((tool) => tool.name === split.tool))
      throw new McpError(ErrorCode.InvalidParams, `unknown tool ${name}`);
    if (!roleAtLeast(actor.role, "operator")) return errorResult("FORBIDDEN", "calling agent tools requires the operator role");

    const token = extra._meta?.progressToken;
    try {
      const { outcome } = await deps.calls.call(
        actor,
        { agent_name: entry.agent, tool_name: split.tool, arguments: args },
        {
          signal: extra.signal,
          waitMs: waitBudgetMs(deps.config, entry),
          onProgress:
            token === undefined
              ? undefined
              : (event) => {
                  if (event.type !== "progress") return;
                  const { progress, total, message } = event;
                  extra
                    .sendNotification({
                      method: "notifications/progress",
                      params: {
                        progressToken: token,
                        progress,
                        ...(total !== undefined ? { total } : {}),
                        ...(message ? { message } : {}),
                      },
                    })
                    .catch(() => {});
                },
        },
      );
      if (extra.signal.aborted && (outcome.status === "queued" || outcome.status === "running"))
        return errorResult("CANCELLED", "stopped waiting for the task", outcome.task_id);
      return callResult(outcome);
    } catch (thrown) {
      const error = toSwitchyardError(thrown);
      return errorResult(error.code, error.message);
    }
  });

  return server;
}

async function visibleEntries(deps: McpFacadeDeps, actor: ToolActor): Promise<LiveEntry[]> {
  const live = await deps.catalog.live();
  return [...live.values()]
    .filter((entry) => agentVisibleTo(deps.config, entry.agent, actor.tenant, entry))
    .sort((a, b) => a.agent.localeCompare(b.agent));
}

/** Long enough for every attempt of the task; the client's own cancellation ends it sooner. */
function waitBudgetMs(config: SwitchyardConfig, entry: LiveEntry): number {
  const timeout = config.agents[entry.agent]?.timeout_ms ?? entry.timeout_ms ?? config.limits.task_timeout_ms;
  const attempts = config.agents[entry.agent]?.max_attempts ?? entry.max_attempts ?? config.limits.max_attempts;
  return Math.min(timeout * attempts + config.limits.backoff_ms * 2 ** attempts, 3_600_000);
}

function orchestrationToolView(tool: OrchestrationTool): Tool {
  return {
    name: tool.name,
    description: tool.description,
    inputSchema: z.toJSONSchema(tool.input, { io: "input", unrepresentable: "any" }) as Tool["inputSchema"],
    ...(tool.readOnly ? { annotations: { readOnlyHint: true } } : {}),
  };
}

async function callOrchestrationTool(
  tool: OrchestrationTool,
  actor: ToolActor,
  args: Record<string, unknown>,
  signal: AbortSignal,
): Promise<CallToolResult> {
  if (!roleAtLeast(actor.role, tool.role)) return errorResult("FORBIDDEN", `${tool.name} requires the ${tool.role} role`);
  const parsed = tool.input.safeParse(args);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return errorResult("VALIDATION_FAILED", `${issue?.path.join(".") || "arguments"}: ${issue?.message ?? "invalid"}`);
  }
  try {
    const output = await tool.handler(actor, parsed.data, signal);
    return {
      content: [{ type: "text", text: JSON.stringify(output) }],
      ...(output !== null && typeof output === "object" && !Array.isArray(output)
        ? { structuredContent: output as Record<string, unknown> }
        : {}),
    };
  } catch (thrown) {
    const error = toSwitchyardError(thrown);
    return errorResult(error.code, error.message);
  }
}

/** A finished task as a tool result: an MCP agent's own content passes through unchanged. */
function callResult(outcome: CallOutcome): CallToolResult {
  switch (outcome.status) {
    case "completed": {
      const result = outcome.result as { content?: unknown; structured_content?: unknown } | null | undefined;
      const _meta = { "switchyard/task_id": outcome.task_id };
      if (result && Array.isArray(result.content))
        return {
          _meta,
          content: result.content as CallToolResult["content"],
          ...(result.structured_content !== undefined ? { structuredContent: result.structured_content as Record<string, unknown> } : {}),
        };
      return { _meta, content: [{ type: "text", text: JSON.stringify(outcome.result ?? null) }] };
    }
    case "failed":
    case "cancelled":
      return errorResult(
        outcome.view.error?.code ?? "TOOL_ERROR",
        outcome.view.error?.message ?? `task ${outcome.status}`,
        outcome.task_id,
      );
    case "queued":
    case "running":
      return errorResult("TIMEOUT", `task ${outcome.task_id} is still ${outcome.status}; read it later with get_task`, outcome.task_id);
    default: {
      const never: never = outcome;
      return errorResult("INTERNAL", `unexpected task outcome ${JSON.stringify(never)}`);
    }
  }
}

function errorResult(code: string, message: string, taskId?: string): CallToolResult {
  return {
    isError: true,
    content: [{ type: "text", text: `${code}: ${message}` }],
    structuredContent: { error_code: code, message, ...(taskId ? { task_id: taskId } : {}) },
  };
}
