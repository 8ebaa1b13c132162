import { decodeFailure, type TaskStatus, type TaskView } from "@switchyard/core";
import type { JobState } from "bullmq";
import type { TaskJob } from "./task-queues.js";

/** BullMQ's job state, as a task status. */
export function taskStatusOf(state: JobState | "unknown", failedReason: string | undefined): TaskStatus | undefined {
  switch (state) {
    case "waiting":
    case "prioritized":
    case "delayed":
    case "waiting-children":
      return "queued";
    case "active":
      return "running";
    case "completed":
      return "completed";
    case "failed":
      return decodeFailure(failedReason)?.code === "CANCELLED" ? "cancelled" : "failed";
    case "unknown":
      return undefined;
    default:
      return "queued";
  }
}

const iso = (ms: number | undefined): string | null => (ms ? new Date(ms).toISOString() : null);

/** A task record is its BullMQ job: one source of truth, no second copy to keep in sync. */
export function taskViewOf(job: TaskJob, status: TaskStatus): TaskView {
  const error = status === "failed" || status === "cancelled" ? decodeFailure(job.failedReason) : undefined;
  return {
    task_id: job.data.task_id,
    agent_name: job.data.agent,
    tool_name: job.data.tool,
    status,
    priority: job.data.priority,
    arguments: job.data.arguments,
    ...(status === "completed" ? { result: job.returnvalue } : {}),
    ...(error ? { error: { code: error.code, message: error.message } } : {}),
    // attemptsStarted counts every pick-up, including one lost to a crashed worker.
    attempts: Math.max(job.attemptsStarted ?? 0, job.attemptsMade),
    max_attempts: job.opts.attempts ?? 1,
    created_at: new Date(job.data.created_at).toISOString(),
    started_at: iso(job.processedOn),
    finished_at: status === "completed" || status === "failed" || status === "cancelled" ? iso(job.finishedOn) : null,
  };
}
