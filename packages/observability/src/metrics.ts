import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * Every Switchyard metric, on one registry per process (per service in tests). Names follow
 * Prometheus conventions: `switchyard_` prefix, base units in the name (`_seconds`, `_usd`),
 * `_total` on counters. Labels are bounded: agent, tool, queue, route template, status, outcome,
 * workflow and step names from definitions — never task, run or tenant ids.
 */
export interface SwitchyardMetricsOptions {
  /** Labels on every series, e.g. `{ service: "worker" }`. */
  defaultLabels?: Record<string, string>;
  /** Node.js process metrics (`process_*`, `nodejs_*`); on by default. */
  processMetrics?: boolean;
}

/** What ended one task attempt or task. */
export type TaskOutcome = "completed" | "failed" | "retry" | "timeout" | "cancelled";
export type CircuitState = "closed" | "half_open" | "open";
const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const LONG_BUCKETS = [0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200];

export class SwitchyardMetrics {
  readonly registry = new Registry();

  // Tasks (worker)
  readonly tasks: Counter<"agent" | "tool" | "outcome">;
  readonly taskDuration: Histogram<"agent" | "tool" | "outcome">;
  readonly toolCallDuration: Histogram<"agent" | "tool" | "outcome">;
  readonly taskRetries: Counter<"agent" | "tool">;
  readonly taskTimeouts: Counter<"agent" | "tool">;
  readonly tasksStalled: Counter<"queue">;
  readonly tasksInFlight: Gauge<"agent">;
  // Agents and providers (worker)
  readonly mcpRestarts: Counter<"agent">;
  readonly agentUp: Gauge<"agent">;
  readonly circuitState: Gauge<"agent">;
  readonly providerTokens: Counter<"agent" | "model" | "kind">;
  readonly providerCost: Counter<"agent" | "model">;
  readonly providerRequests: Counter<"agent" | "model" | "outcome">;
  // Workflows (coordinator) and participants (api)
  readonly workflowRuns: Counter<"workflow" | "outcome">;
  readonly workflowRunDuration: Histogram<"workflow" | "outcome">;
  readonly workflowStepDuration: Histogram<"workflow" | "step" | "outcome">;
  readonly participantHeartbeats: Counter<"agent">;
  readonly participantLastHeartbeat: Gauge<"agent">;
  // HTTP (api)
  readonly httpRequests: Counter<"method" | "route" | "status">;
  readonly httpRequestDuration: Histogram<"method" | "route" | "status">;

  /** Counters whose source of truth is a running total elsewhere (McpClient.restarts). */
  private readonly seenTotals = new Map<string, number>();

  constructor(options: SwitchyardMetricsOptions = {}) {
    const registers = [this.registry];
    if (options.defaultLabels) this.registry.setDefaultLabels(options.defaultLabels);
    if (options.processMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges that prom-client names `_total`, which promtool (rightly) rejects.
      for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"])
        this.registry.removeSingleMetric(name);
    }

    this.tasks = new Counter({
      name: "switchyard_tasks_total",
      help: "Tasks that reached an outcome (final outcomes, plus `retry` for each retried attempt).",
      labelNames: ["agent", "tool", "outcome"],
      registers,
    });
    this.taskDuration = new Histogram({
      name: "switchyard_task_duration_seconds",
      help: "Time from submission to the task's final outcome, queueing and retries included.",
      labelNames: ["agent", "tool", "outcome"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.toolCallDuration = new Histogram({
      name: "switchyard_tool_call_duration_seconds",
      help: "Duration of one tool call (one task attempt) on a worker.",
      labelNames: ["agent", "tool", "outcome"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.taskRetries = new Counter({
      name: "switchyard_task_retries_total",
      help: "Task attempts that failed retryably and were scheduled again.",
      labelNames: ["agent", "tool"],
      registers,
    });
    this.taskTimeouts = new Counter({
      name: "switchyard_task_timeouts_total",
      help: "Task attempts aborted by their time budget.",
      labelNames: ["agent", "tool"],
      registers,
    });
    this.tasksStalled = new Counter({
      name: "switchyard_tasks_stalled_total",
      help: "Jobs whose worker stopped renewing the lock (crashed or blocked) and were requeued or failed.",
      labelNames: ["queue"],
      registers,
    });
    this.tasksInFlight = new Gauge({
      name: "switchyard_tasks_in_flight",
      help: "Tasks running on this worker now.",
      labelNames: ["agent"],
      registers,
    });
    this.mcpRestarts = new Counter({
      name: "switchyard_mcp_server_restarts_total",
      help: "Restarts of MCP server sessions (stdio children respawned, HTTP sessions reconnected).",
      labelNames: ["agent"],
      registers,
    });
    this.agentUp = new Gauge({
      name: "switchyard_agent_up",
      help: "1 when the agent client on this worker is healthy, 0.5 degraded, 0 down.",
      labelNames: ["agent"],
      registers,
    });
    this.circuitState = new Gauge({
      name: "switchyard_circuit_breaker_state",
      help: "Circuit breaker per agent: 0 closed, 1 half-open, 2 open.",
      labelNames: ["agent"],
      registers,
    });
    this.providerTokens = new Counter({
      name: "switchyard_provider_tokens_total",
      help: "LLM tokens used, by kind (input, output).",
      labelNames: ["agent", "model", "kind"],
      registers,
    });
    this.providerCost = new Counter({
      name: "switchyard_provider_cost_usd_total",
      help: "Estimated LLM spend in US dollars.",
      labelNames: ["agent", "model"],
      registers,
    });
    this.providerRequests = new Counter({
      name: "switchyard_provider_requests_total",
      help: "Requests to LLM providers by outcome (ok, error, rate_limited, circuit_open).",
      labelNames: ["agent", "model", "outcome"],
      registers,
    });
    this.workflowRuns = new Counter({
      name: "switchyard_workflow_runs_total",
      help: "Workflow runs that finished, by outcome.",
      labelNames: ["workflow", "outcome"],
      registers,
    });
    this.workflowRunDuration = new Histogram({
      name: "switchyard_workflow_run_duration_seconds",
      help: "Duration of finished workflow runs.",
      labelNames: ["workflow", "outcome"],
      buckets: LONG_BUCKETS,
      registers,
    });
    this.workflowStepDuration = new Histogram({
      name: "switchyard_workflow_step_duration_seconds",
      help: "Duration of finished workflow steps (step ids come from the definition, so they are bounded).",
      labelNames: ["workflow", "step", "outcome"],
      buckets: LONG_BUCKETS,
      registers,
    });
    this.participantHeartbeats = new Counter({
      name: "switchyard_participant_heartbeats_total",
      help: "Heartbeats received from participant agents.",
      labelNames: ["agent"],
      registers,
    });
    this.participantLastHeartbeat = new Gauge({
      name: "switchyard_participant_last_heartbeat_timestamp_seconds",
      help: "Unix time of the last heartbeat of each participant agent.",
      labelNames: ["agent"],
      registers,
    });
    this.httpRequests = new Counter({
      name: "switchyard_http_requests_total",
      help: "HTTP requests by route template and status code.",
      labelNames: ["method", "route", "status"],
      registers,
    });
    this.httpRequestDuration = new Histogram({
      name: "switchyard_http_request_duration_seconds",
      help: "HTTP request latency by route template and status code.",
      labelNames: ["method", "route", "status"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
  }

  // Helpers other packages call: they keep label names in one place.

  /** One tool call (attempt) ended; a `retry` outcome also counts a retry. */
  recordToolCall(labels: { agent: string; tool: string; outcome: TaskOutcome }, seconds: number): void {
    this.toolCallDuration.observe(labels, seconds);
    if (labels.outcome === "retry") {
      this.taskRetries.inc({ agent: labels.agent, tool: labels.tool });
      this.tasks.inc(labels);
    }
  }

  /** A task reached its final outcome; `seconds` runs from submission. */
  recordTaskFinished(labels: { agent: string; tool: string; outcome: TaskOutcome }, seconds: number): void {
    this.tasks.inc(labels);
    this.taskDuration.observe(labels, Math.max(0, seconds));
  }

  /** LLM usage of one provider call (issue 4's providers call this). */
  recordProviderUsage(usage: {
    agent: string;
    model: string;
    inputTokens?: number;
    outputTokens?: number;
    costUsd?: number;
    outcome?: string;
  }): void {
    const { agent, model } = usage;
    if (usage.inputTokens) this.providerTokens.inc({ agent, model, kind: "input" }, usage.inputTokens);
    if (usage.outputTokens) this.providerTokens.inc({ agent, model, kind: "output" }, usage.outputTokens);
    if (usage.costUsd) this.providerCost.inc({ agent, model }, usage.costUsd);
    this.providerRequests.inc({ agent, model, outcome: usage.outcome ?? "ok" });
  }

  setCircuitState(agent: string, state: CircuitState): void {
    this.circuitState.set({ agent }, CIRCUIT_VALUE[state]);
  }

  /** A workflow run finished (issue 6's coordinator calls this). */
  recordWorkflowRun(labels: { workflow: string; outcome: string }, seconds: number): void {
    this.workflowRuns.inc(labels);
    this.workflowRunDuration.observe(labels, Math.max(0, seconds));
  }

  recordWorkflowStep(labels: { workflow: string; step: string; outcome: string }, seconds: number): void {
    this.workflowStepDuration.observe(labels, Math.max(0, seconds));
  }

  recordParticipantHeartbeat(agent: string, at = Date.now()): void {
    this.participantHeartbeats.inc({ agent });
    this.participantLastHeartbeat.set({ agent }, at / 1_000);
  }

  recordHttpRequest(labels: { method: string; route: string; status: number }, seconds: number): void {
    const l = { method: labels.method, route: labels.route, status: String(labels.status) };
    this.httpRequests.inc(l);
    this.httpRequestDuration.observe(l, seconds);
  }

  /**
   * Feeds a counter from a running total kept elsewhere (e.g. `McpClient.restarts`): adds the
   * growth since the last call. A total that went down (client replaced) counts from zero again.
   */
  syncTotal(counter: Counter<string>, labels: Record<string, string>, total: number): void {
    const key = `${(counter as unknown as { name: string }).name}|${JSON.stringify(labels)}`;
    const seen = this.seenTotals.get(key) ?? 0;
    const delta = total >= seen ? total - seen : total;
    this.seenTotals.set(key, total);
    if (delta > 0) counter.inc(labels, delta);
    else counter.inc(labels, 0);
  }

  /** Runs `collect` before every scrape (async allowed; errors leave the last values). */
  onCollect(collect: () => Promise<void> | void): void {
    this.collectors.push(collect);
  }

  private readonly collectors: Array<() => Promise<void> | void> = [];

  /** The exposition text (Prometheus 0.0.4 format). */
  async scrape(): Promise<string> {
    await Promise.all(
      this.collectors.map(async (collect) => {
        try {
          await collect();
        } catch {
          // a failed collector keeps its last values; the scrape still answers
        }
      }),
    );
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
