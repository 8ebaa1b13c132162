/** The job backoff type every task uses; its strategy lives in {@link taskBackoffStrategy}. */
export const TASK_BACKOFF_TYPE = "switchyard";

/** An error that knows when to retry (a 429's Retry-After, say). */
export interface RetryHint {
  retryAfterMs?: number | undefined;
}

/**
 * Delay before the next attempt: the error's own Retry-After when it has one, else exponential
 * from the job's base delay with ±50% jitter (so a burst of failures does not retry in lockstep),
 * capped at 10 minutes. Registered as the Worker's `settings.backoffStrategy`.
 */
export function taskBackoffStrategy(
  attemptsMade: number,
  type: string | undefined,
  error: (Error & RetryHint) | undefined,
  job: { opts: { backoff?: number | { delay?: number } } } | undefined,
): number {
  if (type !== undefined && type !== TASK_BACKOFF_TYPE) return 0;
  if (error?.retryAfterMs !== undefined) return Math.min(error.retryAfterMs, 600_000);
  const backoff = job?.opts.backoff;
  const base = typeof backoff === "number" ? backoff : (backoff?.delay ?? 1_000);
  const exponential = base * 2 ** Math.max(0, attemptsMade - 1);
  return Math.round(Math.min(exponential, 600_000) * (0.5 + Math.random()));
}
