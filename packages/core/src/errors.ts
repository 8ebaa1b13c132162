/**
 * Error codes are stable strings: clients branch on them, logs and task records carry them.
 * Retry behaviour is a property of the error (see {@link SwitchyardError.retryable}); the worker
 * maps it to BullMQ once, the API maps codes to HTTP statuses once (apps/api/src/http-errors.ts).
 */
export const ERROR_CODES = [
  "BAD_REQUEST",
  "INVALID_JSON",
  "VALIDATION_FAILED",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "NOT_FOUND",
  "ROUTE_NOT_FOUND",
  "METHOD_NOT_ALLOWED",
  "AGENT_NOT_FOUND",
  "TOOL_NOT_FOUND",
  "TASK_NOT_FOUND",
  "CONFLICT",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "UNPROCESSABLE",
  "RATE_LIMITED",
  "INTERNAL",
  "UNAVAILABLE",
  "TIMEOUT",
  "CANCELLED",
  "TOOL_ERROR",
  "AGENT_UNAVAILABLE",
  "AGENT_REMOVED",
  "INVALID_JOB",
  "PROVIDER_ERROR",
  "CIRCUIT_OPEN",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(value: string): value is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(value);
}

export interface SwitchyardErrorOptions {
  details?: unknown;
  /** Whether running the same work again may succeed. Defaults to false. */
  retryable?: boolean;
  /** For retryable errors: the earliest sensible retry, e.g. from a Retry-After header. */
  retryAfterMs?: number;
  cause?: unknown;
}

/** Base of every error Switchyard raises on purpose. Its message is safe to show a client. */
export class SwitchyardError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, options: SwitchyardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SwitchyardError";
    this.code = code;
    this.details = options.details;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Running the work again cannot help: bad arguments, unknown tool, a 4xx from a provider. */
export class NonRetryableError extends SwitchyardError {
  constructor(code: ErrorCode, message: string, options: Omit<SwitchyardErrorOptions, "retryable"> = {}) {
    super(code, message, { ...options, retryable: false });
    this.name = "NonRetryableError";
  }
}

/** A transient failure: a crashed MCP server, a 503, a dropped connection. */
export class RetryableError extends SwitchyardError {
  constructor(code: ErrorCode, message: string, options: Omit<SwitchyardErrorOptions, "retryable"> = {}) {
    super(code, message, { ...options, retryable: true });
    this.name = "RetryableError";
  }
}

/** The work took longer than its budget. Retryable: a later attempt may be faster. */
export class TimeoutError extends RetryableError {
  constructor(ms: number) {
    super("TIMEOUT", `timed out after ${ms} ms`, { details: { timeout_ms: ms } });
    this.name = "TimeoutError";
  }
}

/** The caller cancelled the work. Never retried. */
export class CancelledError extends NonRetryableError {
  constructor(message = "cancelled") {
    super("CANCELLED", message);
    this.name = "CancelledError";
  }
}

export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/**
 * Task failures are stored by BullMQ as a plain `failedReason` string. We keep them readable in
 * Bull Board and still machine-parsable: `CODE: message`.
 */
export function encodeFailure(error: ErrorInfo): string {
  return `${error.code}: ${error.message}`;
}

export function decodeFailure(reason: string | undefined | null): ErrorInfo | undefined {
  if (!reason) return undefined;
  const match = /^([A-Z_]+): ([\s\S]*)$/.exec(reason);
  if (match?.[1] && isErrorCode(match[1])) return { code: match[1], message: match[2] ?? "" };
  return { code: "INTERNAL", message: reason };
}

/** Turns anything thrown into a {@link SwitchyardError} without leaking internals. */
export function toSwitchyardError(error: unknown): SwitchyardError {
  if (error instanceof SwitchyardError) return error;
  if (error instanceof Error && error.name === "AbortError") return new CancelledError();
  const message = error instanceof Error ? error.message : String(error);
  return new SwitchyardError("INTERNAL", message, { retryable: true, cause: error });
}
