import { isErrorCode, splitQualifiedToolName, ToolView } from "@switchyard/core";
import { type CatalogCache, toolViews } from "@switchyard/store";
import type { AgentDirectory, CallOutcome, TaskCalls } from "@switchyard/tasks";
import { type Request, type Response, Router } from "express";
import { z } from "zod";
import { type Principal, principalOf } from "../auth.js";
import { httpError } from "../http-errors.js";
import type { RouteTable } from "../route-table.js";
import { ExecuteToolRequest, InvokePending, InvokeResult, InvokeToolRequest, ToolList, ToolsByAgent } from "../schemas.js";
import { idempotencyKeyOf } from "./tasks.js";

export interface ToolsRouteDeps {
  catalog: CatalogCache;
  agents: AgentDirectory;
  /** Submit-and-wait, for synchronous invocations. */
  calls: TaskCalls;
  /** Default wait of a synchronous invocation (limits.invoke_wait_ms). */
  invokeWaitMs: number;
}

export function toolsRouter(deps: ToolsRouteDeps, routes: RouteTable): Router {
  const router = Router();

  const visibleEntries = async (tenant: string) => {
    const live = await deps.catalog.live();
    const agents = await deps.agents.visibleTo(tenant);
    return agents.flatMap((agent) => {
      const entry = live.get(agent.name);
      return entry ? [{ agent, entry }] : [];
    });
  };

  routes.add(
    router,
    {
      method: "get",
      path: "/tools",
      operationId: "listTools",
      summary: "Every tool of every live agent, with description and JSON Schema",
      tag: "Tools",
      role: "viewer",
      responses: { 200: { description: "Tools named <agent>.<tool>", schema: ToolList } },
    },
    async (req, res) => {
      const entries = await visibleEntries(principalOf(req).tenant);
      res.json({ tools: entries.flatMap(({ entry }) => toolViews(entry)) });
    },
  );

  routes.add(
    router,
    {
      method: "get",
      path: "/tools/list",
      operationId: "listToolsByAgent",
      summary: "Tools grouped by agent (for remote LLM clients)",
      tag: "Tools",
      role: "viewer",
      responses: { 200: { description: "Agents with their tools", schema: ToolsByAgent } },
    },
    async (req, res) => {
      const entries = await visibleEntries(principalOf(req).tenant);
      res.json({
        agents: entries.map(({ agent, entry }) => ({
          agent: agent.name,
          description: agent.config.description ?? "",
          tools: entry.tools.map((tool) => ({ name: tool.name, description: tool.description, input_schema: tool.input_schema })),
        })),
      });
    },
  );

  routes.add(
    router,
    {
      method: "get",
      path: "/tools/:agent/:tool",
      operationId: "getTool",
      summary: "One tool",
      tag: "Tools",
      role: "viewer",
      params: { agent: "Agent name", tool: "Tool name (agent-local)" },
      responses: { 200: { description: "The tool", schema: ToolView } },
    },
    async (req, res) => {
      res.json(await findTool(principalOf(req), String(req.params.agent), String(req.params.tool)));
    },
  );

  routes.add(
    router,
    {
      method: "post",
      path: "/tools/:agent/:tool/invoke",
      operationId: "invokeTool",
      summary: "Call a tool and wait for its result",
      description:
        "Enqueues a task and waits up to `wait_ms` (default `limits.invoke_wait_ms`). Completed: 200 with the result. " +
        "Failed: the task's error, with its HTTP status and the task id in details. Still running: 202 with the task id to poll.",
      tag: "Tools",
      role: "operator",
      params: { agent: "Agent name", tool: "Tool name (agent-local)" },
      body: InvokeToolRequest,
      headers: { "Idempotency-Key": "Makes the call safe to retry" },
      responses: {
        200: { description: "The tool's result", schema: InvokeResult },
        202: { description: "Not finished within wait_ms: poll the task", schema: InvokePending },
      },
    },
    async (req, res, { body }) => {
      const { arguments: args, ...options } = body;
      await invoke(req, res, String(req.params.agent), String(req.params.tool), args, options);
    },
  );

  routes.add(
    router,
    {
      method: "post",
      path: "/tools/execute",
      operationId: "executeTool",
      summary: "Call a tool by its qualified name and wait for its result",
      description: 'Same as invoke, addressed as `{tool: "<agent>.<tool>", params}`.',
      tag: "Tools",
      role: "operator",
      body: ExecuteToolRequest,
      headers: { "Idempotency-Key": "Makes the call safe to retry" },
      responses: {
        200: { description: "The tool's result", schema: InvokeResult },
        202: { description: "Not finished within wait_ms: poll the task", schema: InvokePending },
      },
    },
    async (req, res, { body }) => {
      const { tool, params, ...options } = body;
      const name = splitQualifiedToolName(tool);
      if (!name) throw httpError("VALIDATION_FAILED", "tool: must be <agent>.<tool>", { in: "body" });
      await invoke(req, res, name.agent, name.tool, params, options);
    },
  );

  async function findTool(principal: Principal, agentName: string, toolName: string): Promise<ToolView> {
    const agent = await deps.agents.find(agentName, principal.tenant);
    if (!agent) throw httpError("AGENT_NOT_FOUND", `no agent named '${agentName.slice(0, 64)}'`);
    const entry = await deps.catalog.entry(agentName);
    const view = entry ? toolViews(entry).find((t) => t.tool === toolName) : undefined;
    if (!view) throw httpError("TOOL_NOT_FOUND", `agent '${agentName}' has no tool '${toolName.slice(0, 128)}'`);
    return view;
  }

  async function invoke(
    req: Request,
    res: Response,
    agent: string,
    tool: string,
    args: Record<string, unknown>,
    options: Omit<z.infer<typeof InvokeToolRequest>, "arguments">,
  ): Promise<void> {
    const principal = principalOf(req);
    // A clean 404 for a bad path, before the submission validates the arguments.
    await findTool(principal, agent, tool);
    const { wait_ms, ...submitOptions } = options;
    // A client that hangs up stops the wait (the task goes on).
    const gone = new AbortController();
    const onClose = () => gone.abort();
    res.on("close", onClose);
    let outcome: CallOutcome;
    try {
      ({ outcome } = await deps.calls.call(
        principal,
        { agent_name: agent, tool_name: tool, arguments: args, ...submitOptions },
        {
          idempotencyKey: idempotencyKeyOf(req.headers["idempotency-key"]),
          waitMs: wait_ms ?? deps.invokeWaitMs,
          signal: gone.signal,
        },
      ));
    } finally {
      res.off("close", onClose);
    }
    res.locals.auditTarget = outcome.task_id;
    switch (outcome.status) {
      case "completed":
        res.json({ task_id: outcome.task_id, status: "completed", result: outcome.result });
        return;
      case "queued":
      case "running":
        res.status(202).location(`${req.baseUrl}/tasks/${outcome.task_id}`).json({ task_id: outcome.task_id, status: outcome.status });
        return;
      default: {
        const { view } = outcome;
        const code = view.error && isErrorCode(view.error.code) ? view.error.code : "TOOL_ERROR";
        throw httpError(code, view.error?.message ?? `task ${view.status}`, { task_id: view.task_id, status: view.status });
      }
    }
  }

  // MCP resources and prompts, as the serving workers listed them (names and descriptions).
  for (const kind of ["resources", "prompts"] as const) {
    routes.add(
      router,
      {
        method: "get",
        path: `/${kind}`,
        operationId: kind === "resources" ? "listResources" : "listPrompts",
        summary: `MCP ${kind} of every live agent (names and descriptions)`,
        tag: "Tools",
        role: "viewer",
        responses: {
          200: { description: `{${kind}: [{agent, …}]}`, schema: z.object({ [kind]: z.array(z.record(z.string(), z.unknown())) }) },
        },
      },
      async (req, res) => {
        const entries = await visibleEntries(principalOf(req).tenant);
        const items = entries.flatMap(({ entry }) => (entry[kind] ?? []).map((item) => ({ agent: entry.agent, ...item })));
        res.json({ [kind]: items });
      },
    );
  }

  return router;
}
