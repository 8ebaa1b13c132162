import type { ApiClient } from "./http.js";
import { waitForTask } from "./stack.js";

/**
 * Like waitForTask, but until the record is complete: the task view reads the job and then its
 * state, so a poll that lands while the job finishes can see a final status without its result,
 * error or finished_at yet. Reported to the lead; this waits the transition out.
 */
export async function waitForFinishedTask(client: ApiClient, taskId: string, timeoutMs = 15_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const task = await waitForTask(client, taskId, Math.max(1, deadline - Date.now()));
    if (task.finished_at) return task;
    if (Date.now() > deadline) return task;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
