import type { SwitchyardConfig } from "@switchyard/config";
import { decodeFailure, SwitchyardError, type ToolDescriptor } from "@switchyard/core";
import { agentQueueName, type TaskQueues } from "@switchyard/queue";
import type { CatalogCache } from "@switchyard/store";
import { agentVisibleTo, type TaskService } from "@switchyard/tasks";
import { QueueEvents } from "bullmq";
import type { Redis } from "ioredis";

export interface ChildTaskRequest {
  tenant: string;
  parentTaskId: string;
  agent: string;
  tool: string;
  arguments: Record<string, unknown>;
  timeoutMs?: number | undefined;
  signal: AbortSignal;
}

export type ChildTaskOutcome =
  | { task_id: string; status: "completed"; result: unknown }
  | { task_id: string; status: "failed"; error: { code: string; message: string } };

/** How an agent run calls catalog tools: each call is an ordinary task with its own record. */
export interface ChildTaskRunner {
  /** Tools the tenant may use, as `agent` + descriptor. */
  tools(tenant: string): Promise<Array<{ agent: string; tool: ToolDescriptor }>>;
  run(request: ChildTaskRequest): Promise<ChildTaskOutcome>;
  close(): Promise<void>;
}

export interface TaskChildRunnerOptions {
  config: SwitchyardConfig;
  tasks: TaskService;
  queues: TaskQueues;
  catalog: CatalogCache;
  /** Opens a dedicated connection (QueueEvents blocks on its stream reads). */
  connect: () => Redis;
}

/**
 * Submits child tasks through {@link TaskService} (same validation, tenant, retries and timeouts
 * as any task) and waits for each on its queue's event stream.
 */
export class TaskChildRunner implements ChildTaskRunner {
  private readonly events = new Map<string, Promise<QueueEvents>>();
  private readonly connections: Redis[] = [];
  private closed = false;

  constructor(private readonly options: TaskChildRunnerOptions) {}

  async tools(tenant: string): Promise<Array<{ agent: string; tool: ToolDescriptor }>> {
    const live = await this.options.catalog.live();
    return [...live.values()]
      .filter((entry) => agentVisibleTo(this.options.config, entry.agent, tenant))
      .flatMap((entry) => entry.tools.map((tool) => ({ agent: entry.agent, tool })));
  }

  async run(request: ChildTaskRequest): Promise<ChildTaskOutcome> {
    const events = await this.queueEvents(request.agent);
    const { task_id } = await this.options.tasks.submit(
      { tenant: request.tenant, key_id: `agent_run:${request.parentTaskId}` },
      {
        agent_name: request.agent,
        tool_name: request.tool,
        arguments: request.arguments,
        ...(request.timeoutMs ? { timeout_ms: request.timeoutMs } : {}),
      },
    );
    const job = await this.options.queues.getJob(request.agent, task_id);
    if (!job) return { task_id, status: "failed", error: { code: "TASK_NOT_FOUND", message: "the child task vanished" } };
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        // The run was cancelled or timed out: cancel its child too (queued: removed; running: its
        // worker aborts it). Not when this worker is shutting down: the run is handed back and
        // resumes from its checkpoint, and the child's result is still wanted.
        const reason = request.signal.reason;
        if (!(reason instanceof SwitchyardError && reason.code === "AGENT_UNAVAILABLE")) {
          this.options.tasks.cancel({ tenant: request.tenant, key_id: `agent_run:${request.parentTaskId}` }, task_id).catch(() => {});
        }
        reject(reason instanceof Error ? reason : new Error("aborted"));
      };
      if (request.signal.aborted) onAbort();
      else request.signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      const result = await Promise.race([job.waitUntilFinished(events), aborted]);
      return { task_id, status: "completed", result: result ?? null };
    } catch (error) {
      if (request.signal.aborted) throw error;
      const info = decodeFailure(error instanceof Error ? error.message : String(error)) ?? { code: "INTERNAL", message: "failed" };
      return { task_id, status: "failed", error: { code: info.code, message: info.message } };
    } finally {
      if (onAbort) request.signal.removeEventListener("abort", onAbort);
    }
  }

  private queueEvents(agent: string): Promise<QueueEvents> {
    let events = this.events.get(agent);
    if (!events) {
      const connection = this.options.connect();
      this.connections.push(connection);
      const created = new QueueEvents(agentQueueName(agent), { connection, prefix: this.options.config.redis.prefix });
      created.on("error", () => {});
      events = created.waitUntilReady().then(() => created);
      this.events.set(agent, events);
    }
    return events;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      [...this.events.values()].map(async (pending) => {
        const events = await pending.catch(() => undefined);
        await events?.close().catch(() => {});
      }),
    );
    for (const connection of this.connections) connection.disconnect();
  }
}
