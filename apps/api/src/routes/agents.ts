import type { AgentConfig, SwitchyardConfig } from "@switchyard/config";
import type { TaskQueues } from "@switchyard/queue";
import type { AgentRegistry, CatalogCache, CircuitBreakerStore } from "@switchyard/store";
import type { AgentDirectory, EffectiveAgent, Scheduler, TaskService } from "@switchyard/tasks";
import { Router } from "express";
import { principalOf } from "../auth.js";
import { httpError } from "../http-errors.js";
import type { RouteTable } from "../route-table.js";
import { AgentList, AgentView, RegisterAgentRequest } from "../schemas.js";
import { agentUrls, urlAllowed } from "../url-policy.js";

export interface AgentsRouteDeps {
  config: SwitchyardConfig;
  catalog: CatalogCache;
  agents: AgentDirectory;
  registry: AgentRegistry;
  scheduler: Scheduler;
  tasks: TaskService;
  taskQueues: TaskQueues;
  /** Provider agents' circuit breakers (shared through Redis), shown per model. */
  breakers?: CircuitBreakerStore;
}

const NAME = { name: "Agent name" };

export function agentsRouter(deps: AgentsRouteDeps, routes: RouteTable): Router {
  const router = Router();

  /** What the API shows of an agent: never its config (which may hold credentials). */
  const views = async (agents: EffectiveAgent[]): Promise<AgentView[]> => {
    const live = await deps.catalog.live();
    const loads = await deps.scheduler.loads(agents);
    const breakers = deps.breakers;
    const circuits = await Promise.all(
      agents.map((agent) =>
        breakers && (agent.config.type === "openai" || agent.config.type === "anthropic") ? breakers.read(agent.name) : undefined,
      ),
    );
    return agents.map((agent, i) => {
      const entry = live.get(agent.name);
      const load = loads.get(agent.name) ?? { active: 0, queued: 0, capacity: 0, ratio: 0 };
      const workers = entry?.workers ?? 0;
      const circuit = circuits[i];
      const open = circuit ? Object.values(circuit).some((model) => model.state === "open") : false;
      const status =
        !entry || workers === 0
          ? "offline"
          : open || entry.tools.length === 0
            ? "degraded"
            : load.active >= load.capacity
              ? "busy"
              : "available";
      return {
        name: agent.name,
        type: agent.config.type,
        source: agent.source,
        description: agent.config.description ?? "",
        status,
        capabilities: agent.config.capabilities,
        tools: entry?.tools.length ?? 0,
        workers,
        concurrency: agent.config.concurrency,
        load: { active: load.active, queued: load.queued, capacity: load.capacity },
        // Provider agents: each model's circuit breaker, shared by all workers through Redis.
        ...(circuit ? { circuit } : {}),
      };
    });
  };

  routes.add(
    router,
    {
      method: "get",
      path: "/agents",
      operationId: "listAgents",
      summary: "List agents with status, capabilities and load",
      tag: "Agents",
      role: "viewer",
      responses: { 200: { description: "The agents this tenant may use", schema: AgentList } },
    },
    async (req, res) => {
      res.json({ agents: await views(await deps.agents.visibleTo(principalOf(req).tenant)) });
    },
  );

  routes.add(
    router,
    {
      method: "get",
      path: "/agents/:name",
      operationId: "getAgent",
      summary: "One agent",
      tag: "Agents",
      role: "viewer",
      params: NAME,
      responses: { 200: { description: "The agent", schema: AgentView } },
    },
    async (req, res) => {
      const name = String(req.params.name);
      const agent = await deps.agents.find(name, principalOf(req).tenant);
      if (!agent) throw httpError("AGENT_NOT_FOUND", `no agent named '${name.slice(0, 64)}'`);
      res.json((await views([agent]))[0]);
    },
  );

  routes.add(
    router,
    {
      method: "post",
      path: "/agents",
      operationId: "registerAgent",
      summary: "Register an agent at run time",
      description:
        "Workers start serving it within seconds. Credentials in `config` are stored but never returned. " +
        "Agents that run a command (stdio MCP) need the admin role and `auth.allow_stdio_registration`. " +
        "A non-admin key may only point an agent (MCP `url`, REST or provider `base_url`) at URLs in `auth.agent_url_allowlist`.",
      tag: "Agents",
      role: "operator",
      body: RegisterAgentRequest,
      responses: {
        201: { description: "Registered", schema: AgentView },
        409: { description: "The name is taken" },
      },
    },
    async (req, res, { body }) => {
      const principal = principalOf(req);
      const config = body.config as AgentConfig;
      if (config.type === "mcp" && config.transport === "stdio") {
        if (!deps.config.auth.allow_stdio_registration)
          throw httpError("FORBIDDEN", "registering agents that run a command is disabled (auth.allow_stdio_registration)");
        if (principal.role !== "admin") throw httpError("FORBIDDEN", "registering an agent that runs a command requires the admin role");
      }
      if (principal.role !== "admin") {
        const refused = agentUrls(config).filter((url) => !urlAllowed(url, deps.config.auth.agent_url_allowlist));
        if (refused.length > 0)
          throw httpError("FORBIDDEN", "the agent's URL is outside auth.agent_url_allowlist; only an admin may register it", {
            // Hosts only: a URL's userinfo or query may carry a credential.
            hosts: refused.map((url) => URL.parse(url)?.host ?? "(invalid)"),
          });
      }
      if (await deps.agents.get(body.name)) throw httpError("CONFLICT", `an agent named '${body.name}' already exists`);
      const added = await deps.registry.add({
        name: body.name,
        config,
        created_at: Date.now(),
        created_by: principal.key_id,
        tenant: principal.tenant,
      });
      if (!added) throw httpError("CONFLICT", `an agent named '${body.name}' already exists`);
      // A queue left paused by an earlier removal of the same name serves again.
      await deps.taskQueues.get(body.name).resume();
      deps.agents.invalidate();
      res.locals.auditTarget = body.name;
      const agent = await deps.agents.get(body.name);
      const [view] = agent ? await views([agent]) : [];
      res.status(201).location(`${req.baseUrl}/agents/${body.name}`).json(view);
    },
  );

  routes.add(
    router,
    {
      method: "delete",
      path: "/agents/:name",
      operationId: "removeAgent",
      summary: "Remove a registered agent",
      description:
        "Running tasks finish; queued ones move to another live agent sharing a capability and offering the tool, " +
        "or fail with AGENT_REMOVED. Agents from the config file cannot be removed here (409).",
      tag: "Agents",
      role: "operator",
      params: NAME,
      responses: { 204: { description: "Removed" }, 409: { description: "Defined in the config file" } },
    },
    async (req, res) => {
      const principal = principalOf(req);
      const name = String(req.params.name);
      const agent = await deps.agents.find(name, principal.tenant);
      if (!agent) throw httpError("AGENT_NOT_FOUND", `no agent named '${name.slice(0, 64)}'`);
      if (agent.source !== "registry")
        throw httpError(
          "CONFLICT",
          `agent '${name}' is defined in a config file (${agent.source === "config" ? "the api's" : "a worker's"}); remove it there`,
        );
      if (principal.role !== "admin" && agent.registered_by?.tenant !== principal.tenant)
        throw httpError("FORBIDDEN", "only an admin or the registering tenant may remove this agent");
      res.locals.auditTarget = name;
      if (!(await deps.registry.remove(name))) throw httpError("AGENT_NOT_FOUND", `no agent named '${name}'`);
      deps.agents.invalidate();
      await deps.tasks.drainRemovedAgent(name, agent.config.capabilities);
      res.status(204).end();
    },
  );

  return router;
}
