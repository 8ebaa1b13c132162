import { newId, type TaskJobData } from "@switchyard/core";
import { type Job, Queue } from "bullmq";
import type { Redis } from "ioredis";
import { agentQueueName } from "./names.js";
import { type TaskJobPolicy, taskJobOptions } from "./task-options.js";

export type TaskJob = Job<TaskJobData, unknown, string>;

export interface TaskQueuesOptions {
  connection: Redis;
  prefix: string;
}

/**
 * Producer side of the agent queues: one BullMQ `Queue` per agent, created on first use and
 * sharing one connection.
 */
export class TaskQueues {
  private readonly queues = new Map<string, Queue<TaskJobData, unknown, string>>();

  constructor(private readonly options: TaskQueuesOptions) {}

  get(agent: string): Queue<TaskJobData, unknown, string> {
    let queue = this.queues.get(agent);
    if (!queue) {
      queue = new Queue<TaskJobData, unknown, string>(agentQueueName(agent), {
        connection: this.options.connection,
        prefix: this.options.prefix,
        skipWaitingForReady: true,
      });
      // Errors surface on the calls that hit them; an idle queue must not crash the process.
      queue.on("error", () => {});
      this.queues.set(agent, queue);
    }
    return queue;
  }

  /** Resolves once the job is stored in Redis. */
  async enqueue(data: TaskJobData, policy: Omit<TaskJobPolicy, "taskId">): Promise<TaskJob> {
    return this.get(data.agent).add(data.tool, data, taskJobOptions({ ...policy, taskId: data.task_id }));
  }

  async getJob(agent: string, taskId: string): Promise<TaskJob | undefined> {
    return (await this.get(agent).getJob(taskId)) ?? undefined;
  }

  all(): Queue<TaskJobData, unknown, string>[] {
    return [...this.queues.values()];
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    this.queues.clear();
  }
}

export function newTaskId(): string {
  return newId("tsk");
}
