import { type AgentClient, type AgentClientDeps, createAgentClient } from "@switchyard/agents";
import { type AgentConfig, type SwitchyardConfig, toolPrefixOf } from "@switchyard/config";
import type { TaskJobData } from "@switchyard/core";
import type { Logger, SwitchyardMetrics } from "@switchyard/observability";
import { agentQueueName, taskBackoffStrategy } from "@switchyard/queue";
import type { Redis } from "@switchyard/redis";
import type { CatalogStore } from "@switchyard/store";
import { Worker } from "bullmq";
import { type createTaskProcessor, SHUTDOWN_REASON } from "./processor.js";

export interface AgentSupervisorOptions {
  config: SwitchyardConfig;
  baseDir: string;
  workerId: string;
  connection: Redis;
  catalog: CatalogStore;
  processor: ReturnType<typeof createTaskProcessor>;
  /** Shared with the processor: the supervisor adds and removes clients here. */
  clients: Map<string, AgentClient>;
  claimTtlMs: number;
  logger: Logger;
  metrics?: SwitchyardMetrics;
  /** What agent types beyond MCP need (shared state connection, child tasks, sibling agents). */
  agentDeps?: Omit<AgentClientDeps, "baseDir" | "logger" | "onToolsChanged">;
}

interface Running {
  /** JSON of the config it was started with: a changed config restarts the agent. */
  fingerprint: string;
  config: AgentConfig;
  client: AgentClient;
  worker?: Worker;
}

/**
 * Owns the agents one worker serves: starts an agent client, publishes its catalog entry and runs
 * a BullMQ `Worker` on its queue; stops all three when the agent goes away. `reconcile` takes the
 * desired agent set (config file ∪ registry) and applies the difference, so agents come and go at
 * run time without restarting the process.
 */
export class AgentSupervisor {
  private readonly running = new Map<string, Running>();
  /** Serialises reconciles: a second change waits for the first to be applied. */
  private queue: Promise<void> = Promise.resolve();
  private closing = false;

  constructor(private readonly options: AgentSupervisorOptions) {}

  /** Agents with a live queue worker on this process. */
  served(): string[] {
    return [...this.running.entries()].filter(([, r]) => r.worker).map(([name]) => name);
  }

  /** The queue worker serving an agent on this process, if any (cancellation reaches it). */
  worker(name: string): Worker | undefined {
    return this.running.get(name)?.worker;
  }

  /**
   * Applies `desired`; resolves once every change is applied (new agents connected or given up),
   * or after `startWaitMs`: a server slow to initialize then keeps connecting in the background
   * instead of holding up the changes queued behind it.
   */
  reconcile(desired: ReadonlyMap<string, AgentConfig>, startWaitMs = Number.POSITIVE_INFINITY): Promise<void> {
    const next = this.queue.then(() => this.apply(desired, startWaitMs));
    this.queue = next.catch(() => {});
    return next;
  }

  async heartbeat(): Promise<void> {
    const healthy = [...this.running.entries()].filter(([, r]) => r.worker && r.client.health().status === "ok").map(([name]) => name);
    await this.options.catalog.heartbeat(healthy, this.options.workerId, this.options.claimTtlMs);
  }

  /** Stops everything: queue workers drain (bounded by `drainMs`), then clients and children close. */
  async close(drainMs: number): Promise<boolean> {
    this.closing = true;
    await this.queue;
    const names = [...this.running.keys()];
    await this.options.catalog.withdraw(names, this.options.workerId).catch(() => {});
    const drained = await this.drain(
      names.map((name) => this.running.get(name)?.worker).filter((w): w is Worker => w !== undefined),
      drainMs,
    );
    await Promise.all(
      names.map((name) =>
        this.running
          .get(name)
          ?.client.close()
          .catch(() => {}),
      ),
    );
    this.running.clear();
    this.options.clients.clear();
    return drained;
  }

  private async apply(desired: ReadonlyMap<string, AgentConfig>, startWaitMs: number): Promise<void> {
    if (this.closing) return;
    const { logger } = this.options;
    const stops: Promise<void>[] = [];
    for (const [name, running] of this.running) {
      const wanted = desired.get(name);
      if (!wanted || JSON.stringify(wanted) !== running.fingerprint) {
        logger.info({ agent: name, reason: wanted ? "config changed" : "removed" }, "stopping agent");
        stops.push(this.stop(name));
      }
    }
    await Promise.all(stops);
    const prefixes = new Map([...this.running].map(([name, r]) => [toolPrefixOf(name, r.config), name]));
    const starts: Promise<void>[] = [];
    for (const [name, config] of desired) {
      if (this.running.has(name)) continue;
      const prefix = toolPrefixOf(name, config);
      const owner = prefixes.get(prefix);
      if (owner !== undefined) {
        logger.error({ agent: name, prefix, owner }, "agent not served: its tool prefix is taken by another agent");
        continue;
      }
      prefixes.set(prefix, name);
      starts.push(this.start(name, config).catch((error: Error) => logger.warn({ agent: name, err: error.message }, "agent start failed")));
    }
    const started = Promise.all(starts);
    if (!Number.isFinite(startWaitMs)) return void (await started);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([started, new Promise<void>((resolve) => (timer = setTimeout(resolve, startWaitMs)))]);
    clearTimeout(timer);
  }

  private async start(name: string, config: AgentConfig): Promise<void> {
    const { logger } = this.options;
    let client: AgentClient;
    try {
      client = createAgentClient(name, config, {
        ...this.options.agentDeps,
        baseDir: this.options.baseDir,
        logger,
        onToolsChanged: () => {
          if (this.running.get(name)?.client !== client) return;
          this.publish(name)
            .then(() => this.ensureWorker(name))
            .catch((error: Error) => logger.warn({ agent: name, err: error.message }, "catalog publish failed"));
        },
      });
    } catch (error) {
      logger.error({ agent: name, err: (error as Error).message }, "agent not served");
      return;
    }
    this.running.set(name, { fingerprint: JSON.stringify(config), config, client });
    this.options.clients.set(name, client);
    try {
      await client.start();
    } catch (error) {
      // The client keeps retrying; onToolsChanged publishes it once it is up.
      logger.warn({ agent: name, err: (error as Error).message }, "agent failed to start; will retry");
      return;
    }
    if (this.running.get(name)?.client !== client) return;
    await this.publish(name);
    this.ensureWorker(name);
    await this.running.get(name)?.worker?.waitUntilReady();
  }

  private async stop(name: string): Promise<void> {
    const running = this.running.get(name);
    if (!running) return;
    this.running.delete(name);
    this.options.clients.delete(name);
    await this.options.catalog.withdraw([name], this.options.workerId).catch(() => {});
    if (running.worker) await this.drain([running.worker], this.options.config.limits.shutdown_timeout_ms);
    await running.client.close().catch(() => {});
  }

  private async drain(workers: Worker[], drainMs: number): Promise<boolean> {
    const closing = Promise.all(workers.map((worker) => worker.close())).then(() => true);
    const within = (ms: number) => Promise.race([closing, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref())]);
    // Running jobs may finish within the budget.
    if (await within(drainMs)) return true;
    // Hand the rest back: abort their calls so they fail as retryable now and another worker
    // takes them, instead of waiting for their locks to lapse.
    this.options.logger.warn({ timeout_ms: drainMs }, "in-flight tasks did not finish in time; handing them back");
    for (const worker of workers) worker.cancelAllJobs(SHUTDOWN_REASON);
    if (!(await within(2_000))) await Promise.all(workers.map((worker) => worker.close(true).catch(() => {})));
    return false;
  }

  private async publish(name: string): Promise<void> {
    const running = this.running.get(name);
    if (!running || this.closing) return;
    const { client, config } = running;
    const resources = client.listResources?.() ?? [];
    const prompts = client.listPrompts?.() ?? [];
    await this.options.catalog.publish(
      {
        agent: name,
        agent_type: client.type,
        tools: client.listTools(),
        updated_at: Date.now(),
        worker_id: this.options.workerId,
        ...(config.type === "mcp" && config.namespace ? { namespace: config.namespace } : {}),
        ...(config.tenants ? { tenants: config.tenants } : {}),
        ...(config.description ? { description: config.description } : {}),
        ...(config.timeout_ms ? { timeout_ms: config.timeout_ms } : {}),
        ...(config.max_attempts ? { max_attempts: config.max_attempts } : {}),
        ...(resources.length > 0 ? { resources } : {}),
        ...(prompts.length > 0 ? { prompts } : {}),
      },
      this.options.claimTtlMs,
      true,
    );
  }

  private ensureWorker(name: string): void {
    const running = this.running.get(name);
    if (!running || running.worker || this.closing) return;
    const { config, connection, processor, logger } = this.options;
    const agent = running.config;
    const worker = new Worker<TaskJobData, unknown, string>(agentQueueName(name), processor, {
      connection,
      prefix: config.redis.prefix,
      concurrency: agent.concurrency,
      ...(agent.rate_limit ? { limiter: { max: agent.rate_limit.max, duration: agent.rate_limit.duration_ms } } : {}),
      lockDuration: config.limits.lock_duration_ms,
      stalledInterval: config.limits.stalled_interval_ms,
      maxStalledCount: config.limits.max_stalled_count,
      settings: { backoffStrategy: taskBackoffStrategy },
      // Finished jobs are trimmed by each job's own removeOnComplete/removeOnFail (retention).
    });
    worker.on("error", (error) => logger.warn({ agent: name, err: error.message }, "queue worker error"));
    worker.on("stalled", (jobId) => {
      this.options.metrics?.tasksStalled.inc({ queue: agentQueueName(name) });
      logger.warn({ agent: name, task_id: jobId }, "task stalled: its worker stopped renewing the lock; requeued");
    });
    running.worker = worker;
  }
}
