import type { SwitchyardConfig } from "@switchyard/config";
import type { CatalogCache, CircuitBreakerStore } from "@switchyard/store";
import { agentVisibleTo } from "@switchyard/tasks";
import { Router } from "express";
import { principalOf, requireRole } from "../auth.js";
import { httpError } from "../http-errors.js";

export function agentsRouter(config: SwitchyardConfig, catalog: CatalogCache, breakers?: CircuitBreakerStore): Router {
  const router = Router();

  const view = async (name: string) => {
    const agent = config.agents[name];
    if (!agent) return undefined;
    const entry = await catalog.entry(name);
    return {
      name,
      type: agent.type,
      description: agent.description ?? "",
      status: entry ? "available" : "offline",
      capabilities: agent.capabilities,
      tools: entry?.tools.length ?? 0,
      workers: entry?.workers ?? 0,
      concurrency: agent.concurrency,
      // Provider agents: each model's circuit breaker, shared by all workers through Redis.
      ...(breakers && (agent.type === "openai" || agent.type === "anthropic") ? { circuit: await breakers.read(name) } : {}),
    };
  };

  router.get("/agents", requireRole("viewer"), async (req, res) => {
    const { tenant } = principalOf(req);
    const names = Object.keys(config.agents).filter((name) => agentVisibleTo(config, name, tenant));
    res.json({ agents: await Promise.all(names.map(view)) });
  });

  router.get("/agents/:name", requireRole("viewer"), async (req, res) => {
    const name = String(req.params.name);
    const found = agentVisibleTo(config, name, principalOf(req).tenant) ? await view(name) : undefined;
    if (!found) throw httpError("AGENT_NOT_FOUND", `no agent named '${name}'`);
    res.json(found);
  });

  return router;
}
