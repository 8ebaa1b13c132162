import type { Role } from "@switchyard/core";
import type { Request, RequestHandler, Response, Router } from "express";
import type { z } from "zod";
import { requireRole } from "./auth.js";
import { parseOr400 } from "./validation.js";

export type HttpMethod = "get" | "post" | "delete";

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Defaults to application/json. */
  contentType?: string;
  headers?: Record<string, string>;
}

/**
 * One REST operation, declared once: Express routing, request validation and the OpenAPI
 * document are all derived from it, so the document cannot miss or misdescribe a route.
 */
export interface RouteSpec<Body extends z.ZodType = z.ZodType, Query extends z.ZodType = z.ZodType> {
  method: HttpMethod;
  /** Express-style path under /api/v1, e.g. `/tasks/:id`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** Lowest role allowed; `null` for public routes (no key needed). */
  role: Role | null;
  params?: Record<string, string>;
  query?: Query;
  body?: Body;
  /** Request headers the route reads (name → description). */
  headers?: Record<string, string>;
  responses: Record<number, ResponseSpec>;
}

export interface RouteInput<Body extends z.ZodType, Query extends z.ZodType> {
  body: z.infer<Body>;
  query: z.infer<Query>;
}

/** Collects the routes of every router, in declaration order. */
export class RouteTable {
  readonly specs: RouteSpec[] = [];

  add<Body extends z.ZodType, Query extends z.ZodType>(
    router: Router,
    spec: RouteSpec<Body, Query>,
    handler: (req: Request, res: Response, input: RouteInput<Body, Query>) => Promise<void> | void,
  ): void {
    this.specs.push(spec as unknown as RouteSpec);
    const guards: RequestHandler[] = spec.role ? [requireRole(spec.role)] : [];
    router[spec.method](spec.path, ...guards, async (req: Request, res: Response) => {
      const input = {
        body: spec.body ? parseOr400(spec.body, req.body, "body") : undefined,
        query: spec.query ? parseOr400(spec.query, req.query, "query") : undefined,
      } as RouteInput<Body, Query>;
      await handler(req, res, input);
    });
  }
}
