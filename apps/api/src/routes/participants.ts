import type { OrchestrationTool, ToolActor } from "@switchyard/core";
import { type Request, Router } from "express";
import { principalOf, requireRole } from "../auth.js";
import type { RouteTable } from "../route-table.js";
import { parseOr400 } from "../validation.js";

/**
 * Each participant tool as `POST /participants/<tool name>`: the JSON body is the tool's input
 * (validated by its zod schema), the answer its result. Long-polls stop when the client leaves.
 */
export function participantsRouter(tools: readonly OrchestrationTool[], routes?: RouteTable): Router {
  const router = Router();
  for (const tool of tools) {
    // Described in the OpenAPI document; served by the handler below (an empty body is `{}`).
    routes?.specs.push({
      method: "post",
      path: `/participants/${tool.name}`,
      operationId: tool.name,
      summary: tool.description,
      tag: "Participants",
      role: tool.role,
      body: tool.input,
      responses: { 200: { description: "The tool's result" } },
    });
    router.post(`/participants/${tool.name}`, requireRole(tool.role), async (req, res) => {
      // No body at all is `{}`; a body that was not JSON (another Content-Type) is refused, not ignored.
      const input = parseOr400(tool.input, req.body ?? (hasBody(req) ? undefined : {}), "body");
      const principal = principalOf(req);
      const actor: ToolActor = { tenant: principal.tenant, role: principal.role, key_id: principal.key_id, agent_id: principal.agent_id };
      const gone = new AbortController();
      res.on("close", () => {
        if (!res.writableFinished) gone.abort();
      });
      const result = await tool.handler(actor, input, gone.signal);
      res.json(result);
    });
  }
  router.get("/participants/tools", requireRole("viewer"), (_req, res) => {
    res.json({
      tools: tools.map((tool) => ({ name: tool.name, description: tool.description, role: tool.role, read_only: tool.readOnly ?? false })),
    });
  });
  return router;
}

function hasBody(req: Request): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}
