import { CancelledError, NonRetryableError, RetryableError, SwitchyardError, TimeoutError } from "@switchyard/core";

/** The error classes an SDK exports; both official SDKs share this shape. */
export interface SdkErrorClasses {
  APIError: abstract new (...args: never[]) => Error & { status?: number | undefined; headers?: Headers | undefined };
  APIConnectionError: abstract new (...args: never[]) => Error;
  APIConnectionTimeoutError: abstract new (...args: never[]) => Error;
  APIUserAbortError: abstract new (...args: never[]) => Error;
}

/** Statuses a retry cannot fix. Anything else 4xx is also final, except 408/409/429. */
const RETRYABLE_STATUSES = new Set([408, 409, 429, 500, 502, 503, 504, 520, 522, 524, 529]);

export interface ErrorScope {
  label: string;
  signal: AbortSignal;
  timeoutMs: number;
  scrub: (text: string) => string;
}

/**
 * Maps whatever an SDK threw onto Switchyard's retryable / non-retryable errors, in one place.
 * Messages are scrubbed of configured secrets (some providers echo the key they rejected).
 */
export function mapProviderError(error: unknown, sdk: SdkErrorClasses, scope: ErrorScope): SwitchyardError {
  if (scope.signal.aborted) {
    const reason = scope.signal.reason;
    return reason instanceof SwitchyardError ? reason : new CancelledError();
  }
  if (error instanceof SwitchyardError) return error;
  if (error instanceof sdk.APIUserAbortError) return new CancelledError();
  if (error instanceof sdk.APIConnectionTimeoutError) return new TimeoutError(scope.timeoutMs);
  if (error instanceof sdk.APIConnectionError)
    return new RetryableError("PROVIDER_ERROR", `${scope.label}: connection failed (${scope.scrub(causeText(error))})`);
  if (error instanceof sdk.APIError && typeof error.status === "number") {
    const status = error.status;
    const message = `${scope.label}: HTTP ${status}: ${scope.scrub(error.message).slice(0, 500)}`;
    const details = { status, provider_status: status };
    if (RETRYABLE_STATUSES.has(status) || status >= 500) {
      const retryAfterMs = retryAfterOf(error.headers);
      return new RetryableError(status === 429 ? "RATE_LIMITED" : "PROVIDER_ERROR", message, {
        details,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      });
    }
    return new NonRetryableError("PROVIDER_ERROR", message, { details });
  }
  // Malformed bodies (bad JSON, an SSE line that does not parse) and other surprises: the
  // provider misbehaved; another attempt or provider may do better.
  const text = error instanceof Error ? error.message : String(error);
  return new RetryableError("PROVIDER_ERROR", `${scope.label}: malformed or unexpected response (${scope.scrub(text).slice(0, 300)})`);
}

function causeText(error: Error): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : error.message;
}

/** `retry-after-ms` (OpenAI) or `retry-after` in seconds or as an HTTP date. */
export function retryAfterOf(headers: Headers | undefined): number | undefined {
  if (!headers || typeof headers.get !== "function") return undefined;
  const ms = Number(headers.get("retry-after-ms"));
  if (headers.get("retry-after-ms") && Number.isFinite(ms)) return Math.max(0, ms);
  const value = headers.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** A stream that ended before the provider's final event is a failure, never a short answer. */
export function truncatedStream(label: string): RetryableError {
  return new RetryableError("PROVIDER_ERROR", `${label}: the stream ended before the final event (truncated response)`);
}

export function scrubber(secrets: Iterable<string>): (text: string) => string {
  const list = [...secrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const secret of list) out = out.split(secret).join("[redacted]");
    return out;
  };
}
