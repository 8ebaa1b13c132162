import { NonRetryableError, type ToolActor } from "@switchyard/core";
import type { TaskQueues } from "@switchyard/queue";
import type { TaskService } from "@switchyard/tasks";
import type { TaskPort } from "@switchyard/workflow";

/** The decomposition tools' view of tasks: submit through TaskService, wait by polling the record. */
export function taskPort(tasks: TaskService, queues: TaskQueues): TaskPort {
  return {
    submit: async (actor: ToolActor, agent, tool, args) =>
      (await tasks.submit(actor, { agent_name: agent, tool_name: tool, arguments: args })).task_id,
    result: async (actor, taskId, timeoutMs, signal) => {
      const deadline = Date.now() + timeoutMs;
      for (let delay = 10; ; delay = Math.min(delay * 2, 250)) {
        const view = await tasks.get(actor, taskId);
        if (view.status === "completed") return view.result ?? null;
        if (view.status === "failed" || view.status === "cancelled")
          throw new NonRetryableError("TOOL_ERROR", `task ${taskId} ${view.status}: ${view.error?.message ?? ""}`, {
            details: { task_id: taskId, error: view.error },
          });
        if (signal?.aborted) throw new NonRetryableError("CANCELLED", "cancelled");
        if (Date.now() > deadline)
          throw new NonRetryableError("TIMEOUT", `task ${taskId} still ${view.status} after ${timeoutMs} ms`, {
            details: { task_id: taskId },
          });
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    },
    load: async (agent) => {
      const counts = await queues.get(agent).getJobCounts("waiting", "active", "prioritized", "delayed");
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },
  };
}
