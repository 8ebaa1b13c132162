import { SwitchyardError } from "@switchyard/core";
import {
  DelegateBackoff,
  ExponentialBackoff,
  handleWhen,
  type IBackoff,
  type IRetryBackoffContext,
  type RetryPolicy,
  retry,
} from "cockatiel";

export interface RetrySettings {
  maxRetries: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/** Errors raised before any request (open circuit, spent budget): retrying here cannot help. */
export const LOCAL_REJECTION = "local_rejection";

/** Whether one provider call is worth repeating against the same provider and model. */
export function isTransient(error: Error): boolean {
  if (!(error instanceof SwitchyardError) || !error.retryable) return false;
  if (error.code === "TIMEOUT" || error.code === "CANCELLED" || error.code === "CIRCUIT_OPEN") return false;
  return !(error.details && typeof error.details === "object" && LOCAL_REJECTION in error.details);
}

/**
 * cockatiel retry: exponential backoff with decorrelated jitter, never shorter than the
 * provider's Retry-After. Non-transient errors (4xx, open circuit, cancellation) pass straight
 * through.
 */
export function retryPolicy(settings: RetrySettings): RetryPolicy {
  const exponential = new ExponentialBackoff({ initialDelay: Math.max(1, settings.initialDelayMs), maxDelay: settings.maxDelayMs });
  const backoff = new DelegateBackoff<IRetryBackoffContext<unknown>, IBackoff<unknown> | undefined>((context, previous) => {
    const step = previous ? previous.next(context) : exponential.next();
    const error = "error" in context.result ? context.result.error : undefined;
    const retryAfter = error instanceof SwitchyardError ? (error.retryAfterMs ?? 0) : 0;
    return { delay: Math.max(step.duration, retryAfter), state: step };
  });
  return retry(handleWhen(isTransient), { maxAttempts: settings.maxRetries, backoff });
}
