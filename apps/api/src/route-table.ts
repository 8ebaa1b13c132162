import type { Role } from "@switchyard/core";
import type { Request, RequestHandler, Response, Router } from "express";
import type { z } from "zod";
import { requireRole } from "./auth.js";
import { parseOr400 } from "./validation.js";

export type HttpMethod = "get" | "post" | "delete" | "put" | "patch";

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
  /** Found on the router but declared without the table: listed, not described. */
  undocumented?: boolean;
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

interface Layer {
  route?: { path: unknown; methods: Record<string, boolean>; stack?: Array<{ handle?: { requiredRole?: Role } }> };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
}

/**
 * Every route an Express router serves, nested routers included (method + Express path). Lets
 * the OpenAPI document list routes that were added with `router.get` instead of the table.
 */
export function expressRoutes(router: Router, prefix = ""): Array<{ method: string; path: string; role?: Role }> {
  const out: Array<{ method: string; path: string; role?: Role }> = [];
  for (const layer of (router as unknown as { stack: Layer[] }).stack) {
    if (layer.route && typeof layer.route.path === "string") {
      // The route's `requireRole` guard names its role.
      const role = layer.route.stack?.find((inner) => inner.handle?.requiredRole)?.handle?.requiredRole;
      for (const [method, on] of Object.entries(layer.route.methods))
        if (on && method !== "_all") out.push({ method, path: `${prefix}${layer.route.path}`, ...(role ? { role } : {}) });
    } else if (layer.handle?.stack) {
      const mount = typeof layer.rawPath === "string" && layer.rawPath !== "/" ? layer.rawPath : "";
      out.push(...expressRoutes(layer.handle as unknown as Router, `${prefix}${mount}`));
    }
  }
  return out;
}

/** Specs for routes the router serves that the table does not declare. */
export function undeclaredRoutes(table: RouteTable, router: Router): RouteSpec[] {
  const declared = new Set(table.specs.map((spec) => `${spec.method} ${spec.path}`));
  const seen = new Set<string>();
  const extra: RouteSpec[] = [];
  for (const { method, path, role } of expressRoutes(router)) {
    const key = `${method} ${path}`;
    if (declared.has(key) || seen.has(key) || !["get", "post", "delete", "put", "patch"].includes(method)) continue;
    seen.add(key);
    const params = Object.fromEntries([...path.matchAll(/:([A-Za-z_]+)/g)].map((m) => [m[1] as string, ""]));
    extra.push({
      method: method as HttpMethod,
      path,
      operationId: `${method}${path.replace(/[^A-Za-z0-9]+/g, "_")}`,
      summary: `${method.toUpperCase()} ${path}`,
      tag: "Other",
      role: role ?? "viewer",
      params,
      responses: { 200: { description: "Success" } },
      undocumented: true,
    });
  }
  return extra;
}
