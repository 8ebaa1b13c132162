import { decodeFailure } from "@switchyard/core";
import { agentQueueName } from "@switchyard/queue";
import type { RunEvent, WorkflowJobData } from "@switchyard/workflow";
import type { Job } from "bullmq";
import type { ChainableCommander } from "ioredis";

/**
 * The reads that turn a finished step's flow parent (`wf-step`) into its run event, queued on a
 * pipeline so they share one round trip with the run's load. They are what BullMQ's
 * `getIgnoredChildrenFailures` / `getChildrenValues` / `getJob` read (the parent's `:failed` and
 * `:processed` hashes, the child's attempt counters), without a round trip each.
 */
export interface StepReads {
  /** Commands queued (their replies follow one another in the pipeline's replies). */
  commands: number;
  toEvent(replies: unknown[]): RunEvent;
}

export function queueStepReads(
  pipeline: ChainableCommander,
  prefix: string,
  job: Job,
  data: WorkflowJobData & { step_id: string },
): StepReads {
  const parentKey = `${job.queueQualifiedName}:${job.id}`;
  pipeline.hgetall(`${parentKey}:failed`);
  pipeline.hgetall(`${parentKey}:processed`);
  // The step's task (`run.…` for the parent `done.…`): attempts it took, best effort (it may be trimmed).
  const counted = !!data.agent && !data.group;
  if (counted)
    pipeline.hmget(`${prefix}:${agentQueueName(data.agent as string)}:${String(job.id).replace(/^done\./, "run.")}`, "atm", "ats");
  return {
    commands: counted ? 3 : 2,
    toEvent: (replies) => {
      const failed = (replies[0] ?? {}) as Record<string, string>;
      const processed = (replies[1] ?? {}) as Record<string, string>;
      if (data.group) return groupEvent(data.step_id, processed, failed);
      const counters = (counted ? replies[2] : undefined) as [string | null, string | null] | undefined;
      const found = !!counters && (counters[0] !== null || counters[1] !== null);
      const attempts = found ? { attempts: Math.max(Number(counters?.[1] ?? 0), Number(counters?.[0] ?? 0)) } : {};
      const where = { step_id: data.step_id, ...(data.item !== undefined ? { item: data.item } : {}) };
      const [failure] = Object.values(failed);
      if (failure !== undefined) {
        const error = decodeFailure(failure) ?? { code: "INTERNAL", message: "step failed" };
        return { type: "step_failed", ...where, error: { code: error.code, message: error.message }, ...attempts };
      }
      const [value] = Object.values(processed);
      return { type: "step_done", ...where, output: value === undefined ? null : (JSON.parse(value) ?? null), ...attempts };
    },
  };
}

/** A merge parent's children: results by item index (the last segment of each child's job id). */
function groupEvent(stepId: string, processed: Record<string, string>, failed: Record<string, string>): RunEvent {
  const itemOf = (key: string) => Number(key.slice(key.lastIndexOf(".") + 1));
  const results: Array<{ item: number; output?: unknown; error?: { code: string; message: string } }> = [];
  for (const [key, value] of Object.entries(processed)) results.push({ item: itemOf(key), output: JSON.parse(value) ?? null });
  for (const [key, reason] of Object.entries(failed)) {
    const error = decodeFailure(reason) ?? { code: "INTERNAL", message: "subtask failed" };
    results.push({ item: itemOf(key), error: { code: error.code, message: error.message } });
  }
  return { type: "group_done", step_id: stepId, results: results.filter((r) => Number.isInteger(r.item)) };
}
