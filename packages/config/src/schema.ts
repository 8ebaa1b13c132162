import { AgentName, Role, TenantId, ToolName } from "@switchyard/core";
import { z } from "zod";

/** `${VAR}` substitution yields strings; numeric and boolean fields accept their string forms. */
const int = (min = 0) =>
  z.preprocess((v) => (typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : v), z.number().int().min(min));
const num = (min = 0) =>
  z.preprocess((v) => (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v)) ? Number(v) : v), z.number().min(min));
const bool = () => z.preprocess((v) => (v === "true" ? true : v === "false" ? false : v), z.boolean());

const StringMap = z.record(z.string(), z.string());

const RateLimit = z.strictObject({
  /** Jobs allowed per window (BullMQ limiter). */
  max: int(1),
  duration_ms: int(1),
});

/** Fields every agent type shares. */
const agentCommon = {
  description: z.string().optional(),
  capabilities: z.array(z.string().min(1)).default([]),
  /** Tasks one worker process runs at once for this agent. */
  concurrency: int(1).default(10),
  rate_limit: RateLimit.optional(),
  timeout_ms: int(1).optional(),
  max_attempts: int(1).optional(),
  /** Limit the agent to these tenants; shared by all when absent. */
  tenants: z.array(TenantId).optional(),
  /** Other agents to try, in order, when this one fails with a retryable error. */
  fallback: z.array(AgentName).optional(),
};

const MockTool = z.enum(["echo", "sleep", "fail", "split"]);
export const MockAgentConfig = z.strictObject({
  type: z.literal("mock"),
  ...agentCommon,
  /** Which of the built-in deterministic tools to offer (all by default). */
  tools: z.array(MockTool).optional(),
});

const providerCommon = {
  ...agentCommon,
  api_key: z.string().min(1),
  model: z.string().min(1),
  fallback_models: z.array(z.string().min(1)).default([]),
  embedding_model: z.string().min(1).optional(),
  params: z.record(z.string(), z.unknown()).default({}),
  headers: StringMap.default({}),
  requests_per_minute: int(1).optional(),
  tokens_per_minute: int(1).optional(),
  /** Retries of one provider call (429/5xx/connection), exponential backoff with jitter, Retry-After honoured. */
  retry: z
    .strictObject({
      max_retries: int(0).default(2),
      initial_delay_ms: int(0).default(500),
      max_delay_ms: int(1).default(30_000),
    })
    .prefault({}),
  /** Circuit breaker per agent and model, shared by all workers through Redis. */
  circuit_breaker: z
    .strictObject({
      /** Failures within `window_ms` that open the circuit. */
      failure_threshold: int(1).default(5),
      window_ms: int(1).default(60_000),
      /** How long an open circuit rejects calls before one probe may try again. */
      open_ms: int(1).default(30_000),
    })
    .prefault({}),
  /** Estimated cost: USD per 1M tokens, by model. */
  pricing: z.record(z.string(), z.strictObject({ input_per_1m: num(0), output_per_1m: num(0) })).default({}),
};

export const OpenAIAgentConfig = z.strictObject({
  type: z.literal("openai"),
  ...providerCommon,
  /** Any OpenAI-compatible endpoint: Gemini, Grok, vLLM, Ollama, LM Studio… */
  base_url: z.url().optional(),
  organization: z.string().optional(),
});

export const AnthropicAgentConfig = z.strictObject({
  type: z.literal("anthropic"),
  ...providerCommon,
  base_url: z.url().optional(),
});

/** Per-tool policy of an MCP agent. */
export const McpToolPolicy = z.strictObject({
  /** The operator vouches that the tool changes nothing: its results may be cached. */
  read_only: bool().default(false),
  /** Cache results of a read-only tool for this long, keyed by tool and canonical arguments. */
  cache_ttl_ms: int(0).default(0),
});

const mcpCommon = {
  type: z.literal("mcp"),
  ...agentCommon,
  /** Prefix of this server's tools; defaults to the agent name. */
  namespace: AgentName.optional(),
  /** Policies by the server's own tool name (caching of read-only tools). */
  tools: z.record(z.string().min(1), McpToolPolicy).default({}),
  /** Health ping period (0: no pings). A server that misses a ping is restarted/reconnected. */
  ping_interval_ms: int(0).default(15_000),
  ping_timeout_ms: int(1).default(5_000),
  /** First restart/reconnect delay after the server exits, hangs or drops; doubles, with jitter. */
  restart_backoff_ms: int(1).default(200),
  restart_backoff_max_ms: int(1).default(30_000),
  /** After this many consecutive failures the circuit opens: calls fail fast for `circuit_open_ms`. */
  circuit_failure_threshold: int(1).default(5),
  circuit_open_ms: int(1).default(30_000),
};

export const McpStdioAgentConfig = z.strictObject({
  ...mcpCommon,
  transport: z.literal("stdio"),
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: StringMap.default({}),
  /** Working directory; relative paths resolve against the config file's folder. */
  cwd: z.string().optional(),
});

const mcpRemote = {
  ...mcpCommon,
  url: z.url(),
  headers: StringMap.default({}),
  /** Sent as `Authorization: Bearer …`. */
  auth_token: z.string().min(1).optional(),
};
export const McpHttpAgentConfig = z.strictObject({ ...mcpRemote, transport: z.literal("http") });
export const McpSseAgentConfig = z.strictObject({ ...mcpRemote, transport: z.literal("sse") });

export const McpAgentConfig = z.discriminatedUnion("transport", [McpStdioAgentConfig, McpHttpAgentConfig, McpSseAgentConfig]);

export const RestToolConfig = z.strictObject({
  description: z.string().default(""),
  method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).default("POST"),
  /** Path under base_url; `{name}` segments are filled from arguments. */
  path: z.string().startsWith("/"),
  input_schema: z.record(z.string(), z.unknown()).default({ type: "object" }),
  headers: StringMap.default({}),
});

export const RestAgentConfig = z.strictObject({
  type: z.literal("rest"),
  ...agentCommon,
  base_url: z.url(),
  headers: StringMap.default({}),
  auth_token: z.string().min(1).optional(),
  tools: z.record(ToolName, RestToolConfig),
});

export const AGENT_TYPES = ["openai", "anthropic", "mcp", "rest", "mock"] as const;
export type AgentType = (typeof AGENT_TYPES)[number];

export const AgentConfig = z.discriminatedUnion("type", [
  OpenAIAgentConfig,
  AnthropicAgentConfig,
  McpAgentConfig,
  RestAgentConfig,
  MockAgentConfig,
]);

/** Requests one API key may make: a token bucket refilled at `requests_per_second` up to `burst`. */
export const ApiRateLimit = z.strictObject({
  /** 0 turns the limit off. */
  requests_per_second: int(0),
  burst: int(1),
});

export const ApiKeyConfig = z.strictObject({
  key: z.string().min(16, "must be at least 16 characters"),
  role: Role,
  tenant: TenantId.default("default"),
  /** A label for logs and audit (the key itself is never logged). */
  name: z.string().optional(),
  /** Overrides `limits.rate_limit` for this key. */
  rate_limit: ApiRateLimit.optional(),
});

export const SwitchyardConfig = z.strictObject({
  server: z
    .strictObject({
      host: z.string().min(1).default("127.0.0.1"),
      port: int(0).default(8080),
      /** Largest accepted request body, in bytes. */
      body_limit_bytes: int(1024).default(1_048_576),
      /** JSON request bodies nested deeper than this are refused (400). */
      json_max_depth: int(4).default(64),
    })
    .prefault({}),
  redis: z
    .strictObject({
      /** Used when REDIS_URL is not set. Without either, `switchyard start` embeds redis-server. */
      url: z.string().min(1).optional(),
      /** Prefix of every key Switchyard writes, BullMQ's included. */
      prefix: z
        .string()
        .regex(/^[A-Za-z0-9_:{}-]{1,32}$/)
        .default("sy"),
      embedded: z
        .strictObject({
          appendfsync: z.enum(["always", "everysec", "no"]).default("everysec"),
        })
        .prefault({}),
    })
    .prefault({}),
  auth: z
    .strictObject({
      keys: z.array(ApiKeyConfig).default([]),
      /** Whether agents that run a command (stdio MCP) may be registered through the API. */
      allow_stdio_registration: bool().default(true),
      /**
       * Where agents registered through the API by a non-admin key may point (MCP `url`, REST and
       * provider `base_url`). Each entry is a host (`api.example.com`, any scheme and port) or a URL
       * prefix (`https://mcp.example.com:8443/tools`: same scheme, host, port when given, and path
       * prefix). Empty: operators may register no URL agents; admins are never restricted.
       */
      agent_url_allowlist: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  limits: z
    .strictObject({
      task_timeout_ms: int(1).default(300_000),
      max_attempts: int(1).default(3),
      /** First retry delay; doubles each attempt, with jitter. */
      backoff_ms: int(0).default(1_000),
      /** How long finished tasks stay readable. */
      retention_seconds: int(1).default(86_400),
      /** Upper bound of finished tasks kept per agent queue, whatever their age. */
      retention_count: int(1).default(100_000),
      /** How long a graceful shutdown waits for in-flight work. */
      shutdown_timeout_ms: int(0).default(8_000),
      /**
       * A worker holds a lock on each running task and renews it; a task whose lock lapses (its
       * worker died) goes back to the queue after at most this long plus `stalled_interval_ms`.
       */
      lock_duration_ms: int(1_000).default(30_000),
      stalled_interval_ms: int(500).default(15_000),
      /** Lost locks a task survives before it fails (each counts as an attempt). */
      max_stalled_count: int(0).default(3),
      /** Per API key, enforced in Redis across api replicas (429 + Retry-After when exceeded). */
      rate_limit: ApiRateLimit.default({ requests_per_second: 5_000, burst: 10_000 }),
      /** Most submitted-but-not-started tasks one tenant may have; 0 turns the quota off. */
      tenant_queued_tasks: int(0).default(100_000),
      /** How long an Idempotency-Key keeps returning the task it created. */
      idempotency_window_seconds: int(1).default(86_400),
      /** How long `POST /tools/{agent}/{tool}/invoke` waits for the result before answering 202. */
      invoke_wait_ms: int(0).default(30_000),
      /** Entries kept in each tenant's audit stream (approximate cap). */
      audit_max_entries: int(100).default(100_000),
      /** Concurrent Server-Sent Event streams one API key may hold open per api process (429 over it); 0 = no cap. */
      sse_connections_per_key: int(0).default(32),
      /** How often the coordinator sweeps (catalog liveness, task-index retention). */
      housekeeping_interval_ms: int(1_000).default(30_000),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      /**
       * Where `switchyard worker` and `switchyard coordinator` serve /metrics, /healthz and /readyz
       * (the api serves them on its own port; `start` serves everything there). 0 = any free port.
       */
      port: int(0).default(9464),
      host: z.string().min(1).default("127.0.0.1"),
      /** Queue depth is read from Redis at most this often, however often Prometheus scrapes. */
      queue_cache_ms: int(0).default(5_000),
    })
    .prefault({}),
  /**
   * Folder of workflow definitions (*.yaml, *.yml, *.json), relative to the config file. The api
   * defines each one at start for every tenant named in auth.keys (a changed file = a new version).
   */
  workflows_dir: z.string().min(1).optional(),
  /** Participant agents: outside processes that register, claim work and message each other. */
  participants: z
    .strictObject({
      /** A participant that sends no heartbeat for this long is offline. */
      heartbeat_ttl_ms: int(100).default(30_000),
      /** How long work held by an offline agent waits before it is returned or re-delegated. */
      offline_grace_ms: int(0).default(15_000),
      /** How often the coordinator looks for expired heartbeats and overdue deadlines. */
      sweep_every_ms: int(50).default(2_000),
      /** Per-agent defaults; an agent may register lower ones. */
      max_claimed_tasks: int(1).default(5),
      max_messages_per_minute: int(1).default(120),
      /** An unacknowledged inbox message is delivered again after this long. */
      message_redeliver_after_ms: int(50).default(30_000),
      /** Longest lock TTL and longest long-poll a client may ask for. */
      max_lock_ttl_ms: int(100).default(600_000),
      max_wait_ms: int(0).default(30_000),
      /** How long the api caches a participant key lookup (a revoked key lives at most this long). */
      key_cache_ms: int(0).default(5_000),
    })
    .prefault({}),
  /** Where the embedded Redis, the generated admin key and sandboxes live. */
  data_dir: z.string().min(1).default(".switchyard"),
  agents: z.record(AgentName, AgentConfig).default({}),
});

export type SwitchyardConfig = z.infer<typeof SwitchyardConfig>;
export type AgentConfig = z.infer<typeof AgentConfig>;
export type MockAgentConfig = z.infer<typeof MockAgentConfig>;
export type OpenAIAgentConfig = z.infer<typeof OpenAIAgentConfig>;
export type AnthropicAgentConfig = z.infer<typeof AnthropicAgentConfig>;
export type McpAgentConfig = z.infer<typeof McpAgentConfig>;
export type McpStdioAgentConfig = z.infer<typeof McpStdioAgentConfig>;
export type McpToolPolicy = z.infer<typeof McpToolPolicy>;
export type RestAgentConfig = z.infer<typeof RestAgentConfig>;
export type RestToolConfig = z.infer<typeof RestToolConfig>;
export type ApiKeyConfig = z.infer<typeof ApiKeyConfig>;
export type ApiRateLimit = z.infer<typeof ApiRateLimit>;
