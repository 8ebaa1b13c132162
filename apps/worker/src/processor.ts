import type { AgentClient } from "@switchyard/agents";
import {
  encodeFailure,
  NonRetryableError,
  RetryableError,
  type SwitchyardError,
  TaskJobData,
  TimeoutError,
  toSwitchyardError,
} from "@switchyard/core";
import { type Logger, type SwitchyardMetrics, type TaskOutcome, withLogContext } from "@switchyard/observability";
import type { TaskJob } from "@switchyard/queue";
import { UnrecoverableError } from "bullmq";

/** Thrown to BullMQ for a retryable failure; carries Retry-After to the backoff strategy. */
class RetryableJobError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
    this.name = "RetryableJobError";
  }
}

export interface ProcessorDeps {
  clients: ReadonlyMap<string, AgentClient>;
  logger: Logger;
  metrics?: SwitchyardMetrics;
}

/**
 * Runs one task job: validates the envelope, calls the agent's tool under the task's time budget
 * and abort signal, and maps failures onto BullMQ in one place: non-retryable errors become
 * `UnrecoverableError` (fail now), others are retried with the task's backoff.
 */
export function createTaskProcessor(deps: ProcessorDeps) {
  return async (job: TaskJob, _token?: string, signal?: AbortSignal): Promise<unknown> => {
    const parsed = TaskJobData.safeParse(job.data);
    if (!parsed.success) {
      throw new UnrecoverableError(encodeFailure({ code: "INVALID_JOB", message: "job data is not a valid task envelope" }));
    }
    const task = parsed.data;
    // task_id, agent and tool go on every line written while this task runs, the agent
    // client's included.
    return withLogContext({ task_id: task.task_id, agent: task.agent, tool: task.tool }, async () => {
      // Made only when a line is written (a child logger per task is measurable CPU at volume).
      const log = () => deps.logger.child({ attempt: job.attemptsMade + 1 });
      const client = deps.clients.get(task.agent);
      const labels = { agent: task.agent, tool: task.tool };
      const started = performance.now();
      deps.metrics?.tasksInFlight.inc({ agent: task.agent });
      try {
        if (!client) throw new RetryableError("AGENT_UNAVAILABLE", `this worker does not serve agent ${task.agent}`);
        const result = await withTimeout(task.timeout_ms, signal, (combined) =>
          client.callTool(task.tool, task.arguments, {
            signal: combined,
            timeoutMs: task.timeout_ms,
            taskId: task.task_id,
            tenant: task.tenant,
            attempt: job.attemptsMade + 1,
            emit: (event) => {
              job.updateProgress(event).catch(() => {});
            },
          }),
        );
        const seconds = (performance.now() - started) / 1_000;
        deps.metrics?.recordToolCall({ ...labels, outcome: "completed" }, seconds);
        deps.metrics?.recordTaskFinished({ ...labels, outcome: "completed" }, (Date.now() - job.timestamp) / 1_000);
        if (deps.logger.isLevelEnabled("debug")) log().debug({ ms: Math.round(seconds * 1_000) }, "task completed");
        return result ?? null;
      } catch (thrown) {
        const error = toSwitchyardError(thrown);
        const final = logFailure(log(), error, job, performance.now() - started);
        recordFailure(deps.metrics, labels, error, final, (performance.now() - started) / 1_000, job);
        const reason = encodeFailure(error);
        if (!error.retryable) throw new UnrecoverableError(reason);
        throw new RetryableJobError(reason, error.retryAfterMs);
      } finally {
        deps.metrics?.tasksInFlight.dec({ agent: task.agent });
      }
    });
  };
}

function recordFailure(
  metrics: SwitchyardMetrics | undefined,
  labels: { agent: string; tool: string },
  error: SwitchyardError,
  final: boolean,
  seconds: number,
  job: TaskJob,
): void {
  if (!metrics) return;
  const outcome: TaskOutcome = error.code === "TIMEOUT" ? "timeout" : error.code === "CANCELLED" ? "cancelled" : "failed";
  if (outcome === "timeout") metrics.taskTimeouts.inc(labels);
  if (final) {
    metrics.toolCallDuration.observe({ ...labels, outcome }, seconds);
    metrics.recordTaskFinished({ ...labels, outcome }, (Date.now() - job.timestamp) / 1_000);
  } else {
    metrics.recordToolCall({ ...labels, outcome: "retry" }, seconds);
  }
}

/** Logs a failed attempt; true when it was the task's last. */
function logFailure(log: Logger, error: SwitchyardError, job: TaskJob, ms: number): boolean {
  const final = !error.retryable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  log[final ? "warn" : "info"](
    { code: error.code, err: error.message, retryable: error.retryable, ms: Math.round(ms) },
    final ? "task failed" : "task attempt failed",
  );
  return final;
}

/** BullMQ cancellation reason a shutting-down worker uses for the tasks it hands back. */
export const SHUTDOWN_REASON = "worker shutting down";

function abortReason(reason: unknown): Error {
  if (reason instanceof Error) return reason;
  if (reason === SHUTDOWN_REASON) return new RetryableError("AGENT_UNAVAILABLE", "the worker shut down mid-task; handed back for retry");
  return new NonRetryableError("CANCELLED", String(reason ?? "cancelled"));
}

/**
 * Runs `work` with a signal that aborts on the task's timeout (reason: TimeoutError) or when
 * BullMQ cancels the job. Rejects as soon as the signal fires, even if `work` ignores it.
 */
async function withTimeout<T>(timeoutMs: number, outer: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new TimeoutError(timeoutMs)), timeoutMs);
  const onOuterAbort = () => controller.abort(abortReason(outer?.reason));
  outer?.addEventListener("abort", onOuterAbort, { once: true });
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(controller.signal.reason);
    controller.signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work(controller.signal), aborted]);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener("abort", onOuterAbort);
    if (onAbort) controller.signal.removeEventListener("abort", onAbort);
  }
}
