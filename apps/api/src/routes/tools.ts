import type { SwitchyardConfig } from "@switchyard/config";
import { type CatalogCache, toolViews } from "@switchyard/store";
import { agentVisibleTo } from "@switchyard/tasks";
import { Router } from "express";
import { principalOf, requireRole } from "../auth.js";

export function toolsRouter(config: SwitchyardConfig, catalog: CatalogCache): Router {
  const router = Router();

  router.get("/tools", requireRole("viewer"), async (req, res) => {
    const { tenant } = principalOf(req);
    const live = await catalog.live();
    const tools = [...live.values()]
      .filter((entry) => agentVisibleTo(config, entry.agent, tenant, entry))
      .sort((a, b) => a.agent.localeCompare(b.agent))
      .flatMap(toolViews);
    res.json({ tools });
  });

  // MCP resources and prompts, as the serving workers listed them (names and descriptions).
  for (const kind of ["resources", "prompts"] as const) {
    router.get(`/${kind}`, requireRole("viewer"), async (req, res) => {
      const { tenant } = principalOf(req);
      const live = await catalog.live();
      const items = [...live.values()]
        .filter((entry) => agentVisibleTo(config, entry.agent, tenant, entry))
        .sort((a, b) => a.agent.localeCompare(b.agent))
        .flatMap((entry) => (entry[kind] ?? []).map((item) => ({ agent: entry.agent, ...item })));
      res.json({ [kind]: items });
    });
  }

  return router;
}
