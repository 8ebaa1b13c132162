import type { RunState } from "./schema.js";

const iso = (ms: number | undefined): string | null => (ms ? new Date(ms).toISOString() : null);

/** A run as the API returns it: every step's status, attempts, output or error, timings. */
export function runView(run: RunState) {
  return {
    run_id: run.run_id,
    workflow: run.workflow,
    version: run.version,
    status: run.status,
    input: run.input,
    ...(run.output !== undefined ? { output: run.output } : {}),
    ...(run.error ? { error: run.error } : {}),
    ...(run.parent ? { parent: run.parent } : {}),
    created_at: iso(run.created_at),
    started_at: iso(run.started_at),
    finished_at: iso(run.finished_at),
    steps: Object.entries(run.steps).map(([step_id, s]) => ({
      step_id,
      status: s.status,
      attempts: s.attempts,
      ...(s.output !== undefined ? { output: s.output } : {}),
      ...(s.error ? { error: s.error } : {}),
      ...(s.skipped_reason ? { skipped_reason: s.skipped_reason } : {}),
      ...(s.completed_by ? { completed_by: s.completed_by } : {}),
      ...(s.items
        ? {
            items: {
              total: s.items.length,
              completed: s.items.filter((i) => i.status === "completed").length,
              failed: s.items.filter((i) => i.status === "failed").length,
              running: s.items.filter((i) => i.status === "running").length,
            },
          }
        : {}),
      started_at: iso(s.started_at),
      finished_at: iso(s.finished_at),
    })),
  };
}
export type RunView = ReturnType<typeof runView>;
