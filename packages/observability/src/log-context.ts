import { AsyncLocalStorage } from "node:async_hooks";

/** Ids that identify what a log line belongs to. Only ids: never arguments, results or secrets. */
export interface LogContext {
  request_id?: string;
  task_id?: string;
  run_id?: string;
  step_id?: string;
  agent?: string;
  tool?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

/**
 * Runs `fn` with ids added to every log line written inside it (and inside anything it awaits),
 * nested contexts extending outer ones. Loggers made by `createLogger` pick them up.
 */
export function withLogContext<T>(context: LogContext, fn: () => T): T {
  const outer = storage.getStore();
  return storage.run(outer ? { ...outer, ...context } : context, fn);
}

export function currentLogContext(): LogContext {
  return storage.getStore() ?? {};
}
