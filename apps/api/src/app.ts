import type { SwitchyardConfig } from "@switchyard/config";
import type { OrchestrationTool } from "@switchyard/core";
import type { Logger, ReadinessChecks, SwitchyardMetrics } from "@switchyard/observability";
import type { TaskQueues } from "@switchyard/queue";
import type { Redis } from "@switchyard/redis";
import {
  type AgentRegistry,
  type ApiKeyStore,
  type AuditLog,
  type CatalogCache,
  CircuitBreakerStore,
  Keys,
  type RateLimiter,
} from "@switchyard/store";
import type { AgentDirectory, Scheduler, TaskCalls, TaskEventHub, TaskService } from "@switchyard/tasks";
import type { WorkflowService } from "@switchyard/workflow";
import type { Queue } from "bullmq";
import express, { type Express, Router } from "express";
import { type AdminMount, adminRouter } from "./admin.js";
import { authenticate, type DynamicKeys, type KeyRing, StoredKeyCache } from "./auth.js";
import { auditTrail, rateLimit, sseLimit } from "./guards.js";
import { errorHandler, httpError } from "./http-errors.js";
import { mcpRouter } from "./mcp/mcp-router.js";
import type { OrchestrationToolRegistry } from "./mcp/orchestration-registry.js";
import { observeRequests } from "./observe.js";
import { API_PREFIX, openApiDocument } from "./openapi.js";
import { RouteTable, undeclaredRoutes } from "./route-table.js";
import { agentsRouter } from "./routes/agents.js";
import { auditRouter } from "./routes/audit.js";
import { docsRouter } from "./routes/docs.js";
import { healthRouter } from "./routes/health.js";
import { keysRouter } from "./routes/keys.js";
import { orchestrationRouter } from "./routes/orchestration.js";
import { participantsRouter } from "./routes/participants.js";
import { runsRouter } from "./routes/runs.js";
import { tasksRouter } from "./routes/tasks.js";
import { toolsRouter } from "./routes/tools.js";
import { usageRouter } from "./routes/usage.js";
import { workflowsRouter } from "./routes/workflows.js";
import { uiRouter } from "./ui/ui-router.js";
import { jsonDepthLimit, utf8JsonOnly } from "./validation.js";

export interface AppDeps {
  config: SwitchyardConfig;
  keys: KeyRing;
  redis: Redis;
  catalog: CatalogCache;
  tasks: TaskService;
  logger: Logger;
  queues: () => Queue[];
  taskQueues: TaskQueues;
  agents: AgentDirectory;
  registry: AgentRegistry;
  scheduler: Scheduler;
  events: TaskEventHub;
  rateLimiter: RateLimiter;
  audit: AuditLog;
  /** API keys created through the API (stored hashed). */
  apiKeys: ApiKeyStore;
  /** Shown in the OpenAPI document. */
  version?: string;
  workflows?: WorkflowService;
  /** Orchestration tools offered as REST calls under /orchestration/<name>. */
  orchestrationTools?: readonly OrchestrationTool[];
  /** Tools `/mcp` offers besides the aggregated agent tools. */
  orchestration: OrchestrationToolRegistry;
  /** Submit-and-wait (REST /invoke, MCP tools/call). */
  calls: TaskCalls;
  metrics: SwitchyardMetrics;
  /** Everything `/readyz` checks. */
  readiness: () => Promise<ReadinessChecks>;
  /** Participant agents' keys (issued by register_agent), checked after the config keys. */
  participantKeys?: DynamicKeys;
  /** Participant tools, served as POST /participants/<name>. */
  participantTools?: readonly OrchestrationTool[];
}

export interface ApiApp {
  app: Express;
  admin: AdminMount;
  /** Every REST operation, as declared (the OpenAPI document is built from it). */
  routes: RouteTable;
}

/** The Express app: pure wiring of routers around injected services. */
export function createApp(deps: AppDeps): ApiApp {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("query parser", "simple");

  app.use(observeRequests(deps.metrics));
  app.use(healthRouter(deps.readiness, deps.metrics));
  const admin = adminRouter({ keys: deps.keys, queues: deps.queues });
  app.use(admin.router);
  app.use(uiRouter());

  const routes = new RouteTable();
  let document: Record<string, unknown> | undefined;
  const api = Router();
  const docs = docsRouter(routes, () => {
    // Built on first request, when every router is mounted; routes added without the table are
    // listed too (undescribed), so the document never misses one.
    document ??= openApiDocument([...routes.specs, ...undeclaredRoutes(routes, api)], deps.version ?? "0.1.0");
    return document;
  });

  api.use(docs);
  const storedKeys = new StoredKeyCache(deps.apiKeys);
  api.use(authenticate(deps.keys, storedKeys, deps.participantKeys));
  api.use(auditTrail(deps.audit, deps.logger));
  api.use(rateLimit(deps.rateLimiter, deps.config.limits.rate_limit));
  api.use(utf8JsonOnly());
  api.use(express.json({ limit: deps.config.server.body_limit_bytes, strict: true }));
  api.use(jsonDepthLimit(deps.config.server.json_max_depth));
  api.use(sseLimit(deps.config.limits.sse_connections_per_key));
  api.use(agentsRouter({ ...deps, breakers: new CircuitBreakerStore(deps.redis, new Keys(deps.config.redis.prefix)) }, routes));
  api.use(
    toolsRouter(
      {
        catalog: deps.catalog,
        agents: deps.agents,
        calls: deps.calls,
        invokeWaitMs: deps.config.limits.invoke_wait_ms,
      },
      routes,
    ),
  );
  api.use(tasksRouter(deps.tasks, deps.events, routes));
  api.use(auditRouter(deps.audit, routes));
  api.use(keysRouter(deps.apiKeys, storedKeys, routes));
  api.use(usageRouter(deps.config, deps.redis, routes));
  if (deps.workflows) api.use(workflowsRouter(deps.workflows, deps.config.server.body_limit_bytes));
  if (deps.workflows) api.use(runsRouter(deps.workflows, deps.redis));
  if (deps.orchestrationTools) api.use(orchestrationRouter(deps.orchestrationTools));
  if (deps.participantTools) api.use(participantsRouter(deps.participantTools, routes));
  api.use((req, _res, next) => next(httpError("ROUTE_NOT_FOUND", `no route ${req.method} ${`${req.baseUrl}${req.path}`.slice(0, 200)}`)));

  app.use(
    mcpRouter({
      ...deps,
      storedKeys,
      bodyLimitBytes: deps.config.server.body_limit_bytes,
      jsonMaxDepth: deps.config.server.json_max_depth,
    }),
  );

  app.use(API_PREFIX, api);
  // `/api` is an alias of the current version.
  app.use("/api", api);
  app.use((req, _res, next) => next(httpError("ROUTE_NOT_FOUND", `no route ${req.method} ${req.path.slice(0, 200)}`)));
  app.use(errorHandler(deps.logger));
  return { app, admin, routes };
}
