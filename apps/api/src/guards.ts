import type { ApiRateLimit } from "@switchyard/config";
import { RetryableError } from "@switchyard/core";
import type { AuditLog, RateLimiter } from "@switchyard/store";
import type { NextFunction, Request, Response } from "express";

export interface ErrorLog {
  warn(obj: object, msg?: string): void;
}

/**
 * Per-key token bucket in Redis (so the limit holds across api replicas). Over the limit: 429
 * RATE_LIMITED with Retry-After. Runs after authentication, before anything else touches Redis.
 */
export function rateLimit(limiter: RateLimiter, defaults: ApiRateLimit) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const principal = req.principal;
    const limit = principal?.rate_limit ?? defaults;
    if (!principal || limit.requests_per_second <= 0) return next();
    const waitMs = await limiter.take(principal.key_id, limit);
    if (waitMs > 0)
      throw new RetryableError("RATE_LIMITED", `rate limit of ${limit.requests_per_second} requests/s exceeded`, {
        retryAfterMs: waitMs,
        details: { requests_per_second: limit.requests_per_second, burst: limit.burst },
      });
    next();
  };
}

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Writes every authenticated mutating call to the tenant's audit stream once its response is
 * sent: who (key id and name, role), what (method, path, target), when, outcome (status, error code).
 */
export function auditTrail(audit: AuditLog, log: ErrorLog) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const principal = req.principal;
    if (principal && MUTATING.has(req.method)) {
      res.once("finish", () => {
        const errorCode = res.locals.errorCode as string | undefined;
        audit
          .append({
            tenant: principal.tenant,
            key_id: principal.key_id,
            key_name: principal.name,
            role: principal.role,
            method: req.method,
            path: `${req.baseUrl}${req.path}`.slice(0, 300),
            status: res.statusCode,
            outcome: res.statusCode < 400 ? "ok" : (errorCode ?? "error"),
            target: typeof res.locals.auditTarget === "string" ? res.locals.auditTarget : undefined,
          })
          .catch((error: Error) => log.warn({ err: error.message }, "audit write failed"));
      });
    }
    next();
  };
}

/**
 * Caps the Server-Sent Event streams one key holds open in this process (`limits.sse_connections_per_key`):
 * over it, 429 RATE_LIMITED. A slot is freed when the response closes, however it ends.
 */
const EVENT_STREAM = /^\/(tasks|runs)\/[^/]+\/events\/?$/;

export function sseLimit(maxPerKey: number) {
  const open = new Map<string, number>();
  return (req: Request, res: Response, next: NextFunction): void => {
    const key = req.principal?.key_id;
    if (!key || maxPerKey <= 0 || req.method !== "GET" || !EVENT_STREAM.test(req.path)) {
      next();
      return;
    }
    const count = open.get(key) ?? 0;
    if (count >= maxPerKey)
      throw new RetryableError("RATE_LIMITED", `at most ${maxPerKey} concurrent event streams per API key`, {
        retryAfterMs: 1_000,
        details: { sse_connections_per_key: maxPerKey },
      });
    open.set(key, count + 1);
    res.once("close", () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left <= 0) open.delete(key);
      else open.set(key, left);
    });
    next();
  };
}
