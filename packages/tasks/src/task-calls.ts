import type { SubmitTaskRequest, TaskProgressEvent, TaskView } from "@switchyard/core";
import { newTaskId } from "@switchyard/queue";
import type { TaskEventHub, TaskEventListener } from "./task-events.js";
import type { Actor, SubmitResult, TaskService } from "./task-service.js";

/** How a synchronous call ended, or where its task stood when the wait ran out. */
export type CallOutcome =
  | { status: "completed"; task_id: string; result: unknown }
  | { status: "failed" | "cancelled"; task_id: string; view: TaskView }
  | { status: "queued" | "running"; task_id: string };

export interface CallOptions {
  /** From the Idempotency-Key header, when the caller sent one. */
  idempotencyKey?: string | undefined;
  /** How long to wait for the end; the task keeps running after. */
  waitMs: number;
  /** Stop waiting (the caller went away); the outcome is then the last status seen. */
  signal?: AbortSignal | undefined;
  onProgress?: ((event: TaskProgressEvent) => void) | undefined;
}

export type CallRequest = SubmitTaskRequest & { agent_name: string };

const FINAL = new Set(["completed", "failed", "cancelled"]);

/**
 * Submit a task and wait for its end: the synchronous tool call behind REST `/invoke`, MCP
 * `tools/call` and `submit_task` with `wait`.
 *
 * It listens to the task's queue events *before* submitting (the task id is chosen up front), so
 * a fast completion cannot slip past, and answers a completion straight from the queue's
 * `completed` event, which carries the result: no read of the task before or after. A failure,
 * a cancellation or a replayed submission (an Idempotency-Key seen before) is read back from the
 * task record, which has the error code and message.
 */
export class TaskCalls {
  constructor(
    private readonly tasks: TaskService,
    private readonly events: TaskEventHub,
  ) {}

  async call(principal: Actor, request: CallRequest, options: CallOptions): Promise<{ created: SubmitResult; outcome: CallOutcome }> {
    const agent = request.agent_name;
    const watch = new TaskWatch(this.tasks, principal, options.onProgress);
    const taskId = newTaskId();
    let unsubscribe = await this.events.subscribe(agent, taskId, watch.listener(taskId));
    try {
      const created = await this.tasks.submit(principal, request, { idempotencyKey: options.idempotencyKey, taskId });
      if (created.task_id !== taskId) {
        // A replay: follow the earlier task, which may have ended already.
        unsubscribe();
        unsubscribe = await this.events.subscribe(agent, created.task_id, watch.listener(created.task_id));
        await watch.read(created.task_id);
      }
      return { created, outcome: await watch.until(created.task_id, options.waitMs, options.signal) };
    } finally {
      unsubscribe();
    }
  }
}

/** One waiter's view of its task, fed by queue events and (for non-completions) reads. */
class TaskWatch {
  private status: "queued" | "running" = "queued";
  private settle: (outcome: CallOutcome) => void = () => {};
  private readonly settled = new Promise<CallOutcome>((resolve) => {
    this.settle = resolve;
  });

  constructor(
    private readonly tasks: TaskService,
    private readonly principal: Actor,
    private readonly onProgress: ((event: TaskProgressEvent) => void) | undefined,
  ) {}

  listener(taskId: string): TaskEventListener {
    return (event) => {
      switch (event.type) {
        case "progress":
          this.onProgress?.(event.event);
          return;
        case "running":
          this.status = "running";
          return;
        case "queued":
          return;
        case "finished":
          if (event.outcome === "completed") this.settle({ status: "completed", task_id: taskId, result: event.result ?? null });
          // A failed attempt may be retried: the record says whether it was the last.
          else void this.read(taskId);
          return;
        case "removed":
          void this.read(taskId);
          return;
      }
    };
  }

  /** Reads the task and settles if it has ended. */
  read(taskId: string): Promise<void> {
    return this.tasks.get(this.principal, taskId).then(
      (view) => {
        if (FINAL.has(view.status)) this.settle(outcomeOf(view));
        else if (view.status === "running") this.status = "running";
      },
      () => {},
    );
  }

  async until(taskId: string, waitMs: number, signal: AbortSignal | undefined): Promise<CallOutcome> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const pending = (): CallOutcome => ({ status: this.status, task_id: taskId });
    const expired = new Promise<CallOutcome>((resolve) => {
      // Out of time: one last read, which also covers an event lost to stream trimming.
      timer = setTimeout(() => void this.read(taskId).then(() => resolve(pending())), waitMs);
      onAbort = () => resolve(pending());
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([this.settled, expired]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    }
  }
}

function outcomeOf(view: TaskView): CallOutcome {
  if (view.status === "completed") return { status: "completed", task_id: view.task_id, result: view.result ?? null };
  if (view.status === "failed" || view.status === "cancelled") return { status: view.status, task_id: view.task_id, view };
  return { status: view.status, task_id: view.task_id };
}
