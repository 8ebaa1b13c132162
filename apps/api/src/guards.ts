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
