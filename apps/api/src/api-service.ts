import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type ApiKeyConfig, replaceAgentsInPlace, type SwitchyardConfig, watchConfigFile } from "@switchyard/config";
import { type Logger, type ReadinessChecks, redisCheck, registerQueueMetrics, SwitchyardMetrics } from "@switchyard/observability";
import { COORDINATOR_QUEUE, TaskQueues } from "@switchyard/queue";
import { closeRedis, createRedis, waitForReady } from "@switchyard/redis";
import {
  AgentRegistry,
  ApiKeyStore,
  AuditLog,
  CatalogCache,
  CatalogStore,
  CircuitBreakerStore,
  Keys,
  RateLimiter,
} from "@switchyard/store";
import { AgentDirectory, agentVisibleTo, createTaskService, TaskCalls, TaskEventHub } from "@switchyard/tasks";
import { ContextStore, decompositionTools, RunStore, WorkflowService, workflowTools } from "@switchyard/workflow";
import { Queue } from "bullmq";
import { createApp } from "./app.js";
import { KeyRing } from "./auth.js";
import { OrchestrationToolRegistry } from "./mcp/orchestration-registry.js";
import { coreOrchestrationTools } from "./mcp/orchestration-tools.js";
import { createParticipantTooling } from "./participant-tooling.js";
import { taskPort } from "./task-port.js";
import { joinToolsByName } from "./tool-union.js";
import { loadWorkflowsDir } from "./workflows-dir.js";

export interface ApiServiceOptions {
  config: SwitchyardConfig;
  redisUrl: string;
  logger: Logger;
  /** Keys from config plus any generated ones (the embedded admin key). */
  keys: readonly ApiKeyConfig[];
  host?: string;
  port?: number;
  /** Folder relative config paths (workflows_dir) resolve against; default: the working directory. */
  baseDir?: string;
  /** The config file to watch: its `agents` are applied in place (workers do the same). */
  configFile?: string;
  /** Environment for `${VAR}` substitution when the watched file is re-read. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The registry /metrics serves (all-in-one passes the one worker and coordinator share). */
  metrics?: SwitchyardMetrics;
  /** More /readyz checks (all-in-one adds the co-located worker's and coordinator's). */
  extraReadiness?: () => Promise<ReadinessChecks>;
}

export interface ApiService {
  url: string;
  port: number;
  server: Server;
  metrics: SwitchyardMetrics;
  close(): Promise<void>;
}

export async function startApiService(options: ApiServiceOptions): Promise<ApiService> {
  const { config, logger } = options;
  const log = logger.child({ component: "api" });
  const keys = new KeyRing(options.keys);
  if (keys.size === 0) throw new Error("no API keys configured (auth.keys): every request would be refused");
  // Two command connections: `redis` (auto-pipelined: commands of concurrent requests issued in
  // the same tick share one socket write) for Switchyard's own commands, and `queueRedis` for
  // BullMQ. BullMQ defines ~60 scripts on its connection, and ioredis copies every defined script
  // onto each pipeline it builds — one per tick under auto-pipelining — so the two are kept apart.
  const redis = createRedis({ url: options.redisUrl, role: "client", name: "sy-api", autoPipelining: true });
  const queueRedis = createRedis({ url: options.redisUrl, role: "client", name: "sy-api-queues" });
  const subscriber = createRedis({ url: options.redisUrl, role: "subscriber", name: "sy-api-sub" });
  for (const connection of [redis, queueRedis, subscriber])
    connection.on("error", (error) => log.debug({ err: error.message }, "redis connection error"));
  await Promise.all([waitForReady(redis), waitForReady(queueRedis), waitForReady(subscriber)]);

  const storeKeys = new Keys(config.redis.prefix);
  const catalog = new CatalogCache(new CatalogStore(redis, storeKeys));
  await catalog.subscribe(subscriber, storeKeys.catalogChannel());
  const queues = new TaskQueues({ connection: queueRedis, prefix: config.redis.prefix });
  for (const agent of Object.keys(config.agents)) queues.get(agent);
  const coordinatorQueue = new Queue(COORDINATOR_QUEUE, { connection: queueRedis, prefix: config.redis.prefix, skipWaitingForReady: true });
  coordinatorQueue.on("error", () => {});

  const registry = new AgentRegistry(redis, storeKeys);
  const agents = new AgentDirectory(config, registry, catalog);
  await agents.subscribe(subscriber);
  const events = new TaskEventHub({
    prefix: config.redis.prefix,
    redis,
    connect: () => {
      const connection = createRedis({ url: options.redisUrl, role: "blocking", name: "sy-api-events" });
      connection.on("error", (error) => log.debug({ err: error.message }, "redis connection error"));
      return connection;
    },
  });
  const breakers = new CircuitBreakerStore(redis, storeKeys);
  const { tasks, scheduler } = createTaskService({
    config,
    redis,
    keys: storeKeys,
    queues,
    catalog,
    agents,
    // A provider agent whose model's circuit is open is skipped when scheduling by capability.
    isAvailable: async (agent) =>
      agent.config.type === "openai" || agent.config.type === "anthropic" ? breakers.available(agent.name, agent.config.model) : true,
  });
  const workflows = new WorkflowService({
    store: new RunStore(redis, config.redis.prefix, { retentionSeconds: config.limits.retention_seconds }),
    contexts: new ContextStore(redis, config.redis.prefix, config.limits.retention_seconds),
    coordinator: coordinatorQueue,
    checkTool: async (tenant, qualified) => {
      const dot = qualified.indexOf(".");
      const agent = qualified.slice(0, Math.max(0, dot));
      const tool = qualified.slice(dot + 1);
      if (dot <= 0 || !agentVisibleTo(config, agent, tenant)) return `unknown agent in '${qualified}'`;
      const entry = await catalog.entry(agent);
      // An agent no worker has published yet is accepted; its tasks wait for the worker.
      if (entry && !entry.tools.some((t) => t.name === tool)) return `agent '${agent}' has no tool '${tool}'`;
      return undefined;
    },
    checkCapability: (tenant, capability) =>
      Object.entries(config.agents).some(([name, a]) => a.capabilities.includes(capability) && agentVisibleTo(config, name, tenant))
        ? undefined
        : `no agent has capability '${capability}'`,
  });
  if (config.workflows_dir) {
    const tenants = [...new Set(options.keys.map((k) => k.tenant))];
    await loadWorkflowsDir(workflows, config, tenants, options.baseDir ?? process.cwd(), log);
  }
  const configWatch = options.configFile
    ? watchConfigFile(options.configFile, {
        env: options.env ?? {},
        onChange: (next) => {
          replaceAgentsInPlace(config, next.agents);
          catalog.invalidate();
          agents.invalidate();
          log.info({ agents: Object.keys(next.agents) }, "config file changed; agents updated");
        },
        onInvalid: (error) => log.warn({ err: error.message }, "config file changed but is invalid; keeping the current agents"),
      })
    : undefined;
  const calls = new TaskCalls(tasks, events);
  // Other features append their MCP tools here.
  const metrics = options.metrics ?? new SwitchyardMetrics({ defaultLabels: { service: "api" } });
  const participants = createParticipantTooling({
    config,
    redis,
    logger: log,
    tasks,
    metrics,
    runStatus: async (tenant, id) => (await workflows.run({ tenant, key_id: "participants" }, id)).status,
  });
  const workflowOrchestration = [...decompositionTools(config, taskPort(tasks, queues)), ...workflowTools(workflows)];
  const orchestration = new OrchestrationToolRegistry().add(
    // Features may share a verb (delegate_subtask): same-named tools become one with a union input.
    ...joinToolsByName([...coreOrchestrationTools({ config, catalog, tasks, calls }), ...workflowOrchestration, ...participants.tools]),
  );
  const allQueues = () => [...queues.all(), coordinatorQueue] as Queue[];
  registerQueueMetrics(metrics, allQueues, { cacheMs: config.metrics.queue_cache_ms });
  let closing = false;
  const readiness = async (): Promise<ReadinessChecks> => ({
    redis: await redisCheck(redis),
    queues: closing ? "shutting down" : "ok",
    ...(await options.extraReadiness?.()),
  });
  const { app, admin } = createApp({
    workflows,
    orchestrationTools: workflowOrchestration,
    config,
    keys,
    redis,
    catalog,
    tasks,
    logger: log,
    queues: allQueues,
    metrics,
    readiness,
    taskQueues: queues,
    agents,
    registry,
    scheduler,
    events,
    rateLimiter: new RateLimiter(redis, storeKeys),
    audit: new AuditLog(redis, storeKeys, config.limits.audit_max_entries),
    apiKeys: new ApiKeyStore(redis, storeKeys),
    orchestration,
    calls,
    participantKeys: participants.keys,
    participantTools: participants.tools,
  });
  // Bull Board shows the queues of agents registered at run time too.
  subscriber.on("message", (channel: string) => {
    if (channel !== registry.channel()) return;
    agents
      .all()
      .then((all) => {
        for (const name of all.keys()) queues.get(name);
        admin.refreshQueues();
      })
      .catch(() => {});
  });

  const server = app.listen(options.port ?? config.server.port, options.host ?? config.server.host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  server.keepAliveTimeout = 65_000;
  // Requests Node's HTTP parser rejects (bad framing, oversized headers) get the same JSON error shape.
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || (error.code === "ECONNRESET" && !socket.readable)) {
      socket.destroy();
      return;
    }
    const status = error.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
    const body = JSON.stringify({ error_code: "BAD_REQUEST", message: "malformed HTTP request", details: null });
    socket.end(
      `HTTP/1.1 ${status}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  log.info({ url }, "api listening");

  return {
    url,
    port: address.port,
    server,
    metrics,
    close: async () => {
      closing = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive sockets would hold close() open; in-flight requests still finish.
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      });
      await events.close();
      configWatch?.close();
      await queues.close();
      await coordinatorQueue.close();
      await Promise.all([closeRedis(subscriber), closeRedis(redis), closeRedis(queueRedis)]);
      log.info("api stopped");
    },
  };
}
