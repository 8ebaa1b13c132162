import type { OrchestrationTool } from "@switchyard/core";
import { Router } from "express";
import { principalOf, requireRole } from "../auth.js";
import { parseOr400 } from "../validation.js";

/** `POST /orchestration/<tool name>`: an orchestration tool as a REST call (same schema, same handler as on /mcp). */
export function orchestrationRouter(tools: readonly OrchestrationTool[]): Router {
  const router = Router();
  for (const tool of tools) {
    router.post(`/orchestration/${tool.name}`, requireRole(tool.role), async (req, res) => {
      const input = parseOr400(tool.input, req.body ?? {}, "body");
      const principal = principalOf(req);
      const controller = new AbortController();
      res.on("close", () => controller.abort());
      const output = await tool.handler(
        { tenant: principal.tenant, role: principal.role, key_id: principal.key_id },
        input,
        controller.signal,
      );
      res.json(output);
    });
  }
  return router;
}
