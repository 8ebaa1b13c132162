import type { SwitchyardConfig } from "@switchyard/config";
import type { OrchestrationTool } from "@switchyard/core";
import type { Logger, ReadinessChecks, SwitchyardMetrics } from "@switchyard/observability";
import type { Redis } from "@switchyard/redis";
import { type CatalogCache, CircuitBreakerStore, Keys } from "@switchyard/store";
import type { TaskService } from "@switchyard/tasks";
import type { Queue } from "bullmq";
import express, { type Express, Router } from "express";
import { type AdminMount, adminRouter } from "./admin.js";
import { authenticate, type DynamicKeys, type KeyRing } from "./auth.js";
import { errorHandler, httpError } from "./http-errors.js";
import { mcpRouter } from "./mcp/mcp-router.js";
import type { OrchestrationToolRegistry } from "./mcp/orchestration-registry.js";
import type { TaskWaiter } from "./mcp/task-waiter.js";
import { observeRequests } from "./observe.js";
import { agentsRouter } from "./routes/agents.js";
import { healthRouter } from "./routes/health.js";
import { participantsRouter } from "./routes/participants.js";
import { tasksRouter } from "./routes/tasks.js";
import { toolsRouter } from "./routes/tools.js";
import { usageRouter } from "./routes/usage.js";
import { uiRouter } from "./ui/ui-router.js";

export interface AppDeps {
  config: SwitchyardConfig;
  keys: KeyRing;
  redis: Redis;
  catalog: CatalogCache;
  tasks: TaskService;
  logger: Logger;
  queues: () => Queue[];
  /** Tools `/mcp` offers besides the aggregated agent tools. */
  orchestration: OrchestrationToolRegistry;
  waiter: TaskWaiter;
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

  const api = Router();
  api.use(authenticate(deps.keys, deps.participantKeys));
  api.use(express.json({ limit: deps.config.server.body_limit_bytes, strict: true }));
  api.use(agentsRouter(deps.config, deps.catalog, new CircuitBreakerStore(deps.redis, new Keys(deps.config.redis.prefix))));
  api.use(toolsRouter(deps.config, deps.catalog));
  api.use(tasksRouter(deps.tasks));
  api.use(usageRouter(deps.config, deps.redis));
  if (deps.participantTools) api.use(participantsRouter(deps.participantTools));
  api.use((req, _res, next) => next(httpError("ROUTE_NOT_FOUND", `no route ${req.method} ${`${req.baseUrl}${req.path}`.slice(0, 200)}`)));

  app.use(mcpRouter({ ...deps, bodyLimitBytes: deps.config.server.body_limit_bytes }));

  app.use("/api/v1", api);
  // `/api` is an alias of the current version.
  app.use("/api", api);
  app.use((req, _res, next) => next(httpError("ROUTE_NOT_FOUND", `no route ${req.method} ${req.path.slice(0, 200)}`)));
  app.use(errorHandler(deps.logger));
  return { app, admin };
}
