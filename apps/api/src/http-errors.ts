import { type ErrorCode, type ErrorResponse, SwitchyardError } from "@switchyard/core";
import type { NextFunction, Request, Response } from "express";

/** HTTP status of each error code: the one mapping, exhaustive by construction. */
const STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  INVALID_JSON: 400,
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  AGENT_NOT_FOUND: 404,
  TOOL_NOT_FOUND: 404,
  TASK_NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
  CANCELLED: 409,
  TOOL_ERROR: 502,
  AGENT_UNAVAILABLE: 503,
  AGENT_REMOVED: 410,
  INVALID_JOB: 500,
  PROVIDER_ERROR: 502,
  CIRCUIT_OPEN: 503,
};

export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}

export class HttpError extends SwitchyardError {
  get status(): number {
    return STATUS[this.code];
  }
}

export function httpError(code: ErrorCode, message: string, details?: unknown): HttpError {
  return new HttpError(code, message, { details });
}

export function sendError(res: Response, code: ErrorCode, message: string, details?: unknown): void {
  const body: ErrorResponse = { error_code: code, message, details: details ?? null };
  res.locals.errorCode = code;
  res.status(STATUS[code]).json(body);
}

/** Redis is down or unreachable: the api says 503, never 500 and never hangs. */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === "MaxRetriesPerRequestError" ||
    /enableOfflineQueue|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|LOADING|Stream isn't writeable|connect ETIMEDOUT/i.test(
      error.message,
    )
  );
}

interface BodyParserError extends Error {
  type?: string;
  status?: number;
}

export interface ErrorLogger {
  error(obj: object, msg?: string): void;
}

/** Last middleware: every error becomes `{error_code, message, details}` with no internals. */
export function errorHandler(logger: ErrorLogger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) {
      res.end();
      return;
    }
    if (error instanceof SwitchyardError) {
      const retryAfter = error.retryAfterMs;
      if (retryAfter !== undefined) res.setHeader("Retry-After", String(Math.max(1, Math.ceil(retryAfter / 1_000))));
      sendError(res, error.code, error.message, error.details);
      return;
    }
    const parserError = error as BodyParserError;
    switch (parserError.type) {
      case "entity.parse.failed":
        sendError(res, "INVALID_JSON", "request body is not valid JSON");
        return;
      case "entity.too.large":
        sendError(res, "PAYLOAD_TOO_LARGE", "request body is too large");
        return;
      case "encoding.unsupported":
      case "charset.unsupported":
        sendError(res, "UNSUPPORTED_MEDIA_TYPE", "unsupported body encoding");
        return;
      case "request.aborted":
      case "request.size.invalid":
      case "stream.encoding.set":
        sendError(res, "BAD_REQUEST", "malformed request body");
        return;
    }
    if (typeof parserError.status === "number" && parserError.status >= 400 && parserError.status < 500) {
      sendError(res, "BAD_REQUEST", "malformed request");
      return;
    }
    if (isRedisUnavailable(error)) {
      res.setHeader("Retry-After", "1");
      sendError(res, "UNAVAILABLE", "the task store is unavailable; try again shortly");
      return;
    }
    logger.error({ err: error, method: req.method, path: req.path }, "unhandled error");
    sendError(res, "INTERNAL", "internal error");
  };
}
