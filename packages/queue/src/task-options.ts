import type { JobsOptions } from "bullmq";
import { TASK_BACKOFF_TYPE } from "./backoff.js";

export interface TaskJobPolicy {
  taskId: string;
  /** Switchyard priority: 1 is the highest. */
  priority: number;
  maxAttempts: number;
  backoffMs: number;
  retentionSeconds: number;
  retentionCount: number;
}

/**
 * The BullMQ options of a task job, in one place.
 *
 * Priority: BullMQ serves jobs without a priority first (a plain list, its fastest path), then
 * prioritized ones by ascending number. Switchyard's priority 1 (the default and highest) maps
 * to "no priority"; priority p > 1 maps to BullMQ priority p - 1.
 */
export function taskJobOptions(policy: TaskJobPolicy): JobsOptions {
  return {
    jobId: policy.taskId,
    ...(policy.priority > 1 ? { priority: policy.priority - 1 } : {}),
    attempts: policy.maxAttempts,
    backoff: { type: TASK_BACKOFF_TYPE, delay: policy.backoffMs },
    removeOnComplete: { age: policy.retentionSeconds, count: policy.retentionCount },
    removeOnFail: { age: policy.retentionSeconds, count: policy.retentionCount },
  };
}
