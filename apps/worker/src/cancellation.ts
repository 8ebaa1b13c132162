import { TaskCancelRequest } from "@switchyard/core";
import type { Logger } from "@switchyard/observability";
import { closeRedis, createRedis } from "@switchyard/redis";
import type { Keys } from "@switchyard/store";
import type { Worker } from "bullmq";

const RETRIES = 20;
const RETRY_MS = 50;

export interface CancellationListener {
  close(): Promise<void>;
}

/**
 * Aborts running tasks the api asks to cancel: BullMQ's `cancelJob` fires the AbortSignal it gave
 * the processor, which aborts the agent call; the task then fails as CANCELLED (never retried).
 * Every worker hears every request; only the one running the task acts on it.
 */
export async function listenForCancellation(options: {
  redisUrl: string;
  keys: Keys;
  /** The queue worker serving an agent on this process (looked up per request: agents come and go). */
  workers: { get(agent: string): Worker | undefined };
  logger: Logger;
}): Promise<CancellationListener> {
  const subscriber = createRedis({ url: options.redisUrl, role: "subscriber", name: "sy-worker-cancel" });
  subscriber.on("error", (error) => options.logger.debug({ err: error.message }, "redis connection error"));
  const channel = options.keys.cancelChannel();
  subscriber.on("message", (received: string, message: string) => {
    if (received !== channel) return;
    let parsed: TaskCancelRequest;
    try {
      parsed = TaskCancelRequest.parse(JSON.parse(message));
    } catch {
      return;
    }
    // The api saw the task running, but the worker that took it may register it a moment later:
    // try again briefly before concluding another worker holds it.
    let tries = 0;
    const attempt = () => {
      if (options.workers.get(parsed.agent)?.cancelJob(parsed.task_id, "cancelled by request")) {
        options.logger.info({ task_id: parsed.task_id, agent: parsed.agent }, "task cancelled");
        return;
      }
      if (++tries < RETRIES) setTimeout(attempt, RETRY_MS).unref();
    };
    attempt();
  });
  await subscriber.subscribe(channel);
  return { close: () => closeRedis(subscriber) };
}
