import { newId, type TaskJobData } from "@switchyard/core";
import { Job, Queue } from "bullmq";
import type { ChainableCommander, Redis } from "ioredis";
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

  /** The connection every queue (and `transaction`) uses. */
  get connection(): Redis {
    return this.options.connection;
  }

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

  /**
   * A MULTI on the queues' connection (BullMQ's scripts loaded), for adding a task's job together
   * with other commands in one round trip (see `addTo`).
   */
  async transaction(agent: string): Promise<ChainableCommander> {
    const client = (await this.get(agent).getBackend().client) as unknown as { multi(): ChainableCommander };
    return client.multi();
  }

  /**
   * Queues the add of a task's job on `tx` (from `transaction`); the reply, in the transaction's
   * results, is the job id. As with `Queue.add`, a job whose id already exists is not added.
   */
  addTo(tx: ChainableCommander, data: TaskJobData, policy: Omit<TaskJobPolicy, "taskId">): void {
    const job = new Job<TaskJobData, unknown, string>(
      this.get(data.agent),
      data.tool,
      data,
      taskJobOptions({ ...policy, taskId: data.task_id }),
      data.task_id,
    );
    // Queued synchronously on the transaction; its outcome arrives with the transaction's results.
    job.addJob(tx as never).catch(() => {});
  }

  /** The Redis key of a task's job. */
  jobKey(agent: string, taskId: string): string {
    return this.get(agent).toKey(taskId);
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
