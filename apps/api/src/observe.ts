import { randomUUID } from "node:crypto";
import { type SwitchyardMetrics, withLogContext } from "@switchyard/observability";
import type { NextFunction, Request, Response } from "express";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives each request an id (the caller's `X-Request-Id` when it is sane, else a new one), echoes
 * it back, puts it on every log line written while the request is handled, and records the
 * request's rate and latency by route *template* (`/api/v1/tasks/:id`, never the id itself).
 */
export function observeRequests(metrics: SwitchyardMetrics) {
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers["x-request-id"];
    const requestId = typeof header === "string" && REQUEST_ID.test(header) ? header : randomUUID();
    res.setHeader("x-request-id", requestId);
    const started = performance.now();
    res.once("finish", () => {
      metrics.recordHttpRequest(
        { method: req.method, route: routeTemplate(req, res), status: res.statusCode },
        (performance.now() - started) / 1_000,
      );
    });
    withLogContext({ request_id: requestId }, next);
  };
}

/** Bounded route label: the matched Express route, or a fixed bucket for everything else. */
function routeTemplate(req: Request, res: Response): string {
  const route = req.route as { path?: unknown } | undefined;
  if (route && typeof route.path === "string") return `${req.baseUrl}${route.path}`;
  if (req.originalUrl.startsWith("/admin/queues")) return "/admin/queues/*";
  return res.statusCode === 404 ? "unmatched" : "other";
}
