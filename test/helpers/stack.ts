import path from "node:path";
import { Writable } from "node:stream";
import { type ApiService, startApiService } from "@switchyard/api";
import { parseConfigObject, type SwitchyardConfig } from "@switchyard/config";
import { type CoordinatorService, startCoordinatorService } from "@switchyard/coordinator";
import { createLogger, type Logger } from "@switchyard/observability";
import { startWorkerService, type WorkerService } from "@switchyard/worker";
import { type ApiClient, apiClient } from "./http.js";
import { redisUrl, uniquePrefix } from "./redis.js";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const EVERYTHING_SERVER = path.join(ROOT, "node_modules/@modelcontextprotocol/server-everything/dist/index.js");
export const FILESYSTEM_SERVER = path.join(ROOT, "node_modules/@modelcontextprotocol/server-filesystem/dist/index.js");
export const MEMORY_SERVER = path.join(ROOT, "node_modules/@modelcontextprotocol/server-memory/dist/index.js");

export const ADMIN_KEY = "test-admin-key-0123456789";
export const OPERATOR_KEY = "test-operator-key-0123456789";
export const VIEWER_KEY = "test-viewer-key-0123456789";
export const OTHER_TENANT_KEY = "test-other-tenant-key-0123456789";

/** Captured log lines (JSON), for asserting what was and was not logged. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly stream = new Writable({
    write: (chunk: Buffer, _enc, done) => {
      this.lines.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  text(): string {
    return this.lines.join("\n");
  }
}

export interface StackOptions {
  /** Raw config (before validation); `redis.prefix` and `auth.keys` are filled in. */
  config?: Record<string, unknown>;
  worker?: boolean;
  coordinator?: boolean;
  redisUrl?: string;
  /** Environment for `${VAR}` substitution in the config. */
  env?: Record<string, string>;
  /** Extra worker-service options (e.g. a watched config file). */
  workerOptions?: { configFile?: string; workerId?: string };
  /** Extra api-service options (e.g. a watched config file). */
  apiOptions?: { configFile?: string };
  /** Give the worker its own /metrics, /healthz, /readyz server (on a free port). */
  workerOps?: boolean;
}

export interface Stack {
  config: SwitchyardConfig;
  prefix: string;
  url: string;
  admin: ApiClient;
  operator: ApiClient;
  viewer: ApiClient;
  otherTenant: ApiClient;
  anonymous: ApiClient;
  api: ApiService;
  worker?: WorkerService;
  coordinator?: CoordinatorService;
  logs: LogCapture;
  logger: Logger;
  close(): Promise<void>;
}

/** api + worker + coordinator in this process, on the shared test Redis under a fresh prefix. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const raw = options.config ?? { agents: { mock: { type: "mock" } } };
  const prefix = (raw.redis as { prefix?: string } | undefined)?.prefix ?? uniquePrefix();
  const config = parseConfigObject(
    {
      ...raw,
      redis: { ...(raw.redis as object), prefix },
      server: { port: 0, ...(raw.server as object) },
      auth: {
        keys: [
          { key: ADMIN_KEY, role: "admin", tenant: "acme" },
          { key: OPERATOR_KEY, role: "operator", tenant: "acme" },
          { key: VIEWER_KEY, role: "viewer", tenant: "acme" },
          { key: OTHER_TENANT_KEY, role: "admin", tenant: "globex" },
        ],
        ...(raw.auth as object),
      },
    },
    { env: options.env ?? {}, file: "test-config" },
  );
  const url = options.redisUrl ?? redisUrl();
  const logs = new LogCapture();
  const logger = createLogger({ level: "debug", destination: logs.stream });
  const worker =
    options.worker === false
      ? undefined
      : await startWorkerService({
          config,
          baseDir: ROOT,
          redisUrl: url,
          logger,
          heartbeatMs: 500,
          ...options.workerOptions,
          ...(options.env ? { env: options.env } : {}),
          ...(options.workerOps ? { opsServer: { host: "127.0.0.1", port: 0 } } : {}),
        });
  const coordinator = options.coordinator === false ? undefined : await startCoordinatorService({ config, redisUrl: url, logger });
  const api = await startApiService({
    config,
    redisUrl: url,
    logger,
    keys: config.auth.keys,
    host: "127.0.0.1",
    port: 0,
    ...options.apiOptions,
    ...(options.env ? { env: options.env } : {}),
  });
  return {
    config,
    prefix,
    url: api.url,
    admin: apiClient(api.url, ADMIN_KEY),
    operator: apiClient(api.url, OPERATOR_KEY),
    viewer: apiClient(api.url, VIEWER_KEY),
    otherTenant: apiClient(api.url, OTHER_TENANT_KEY),
    anonymous: apiClient(api.url),
    api,
    ...(worker ? { worker } : {}),
    ...(coordinator ? { coordinator } : {}),
    logs,
    logger,
    close: async () => {
      await Promise.all([api.close(), worker?.close(), coordinator?.close()]);
    },
  };
}

/** Polls a task until it reaches a final status. */
export async function waitForTask(client: ApiClient, taskId: string, timeoutMs = 15_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await client.get(`/api/v1/tasks/${taskId}`);
    if (["completed", "failed", "cancelled"].includes(body?.status)) return body;
    if (Date.now() > deadline) throw new Error(`task ${taskId} still ${body?.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
