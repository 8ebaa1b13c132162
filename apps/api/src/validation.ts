import type { NextFunction, Request, Response } from "express";
import type { z } from "zod";
import { httpError } from "./http-errors.js";

/** Parses a request part with its zod schema; a failure is a 400 naming the first bad field. */
export function parseOr400<T extends z.ZodType>(schema: T, value: unknown, where: "body" | "query" | "params"): z.infer<T> {
  if (where === "body" && (value === undefined || value === null || typeof value !== "object" || Array.isArray(value))) {
    throw httpError("BAD_REQUEST", "request body must be a JSON object (Content-Type: application/json)");
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    const message =
      issue.code === "unrecognized_keys"
        ? `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")}`
        : issue.code === "invalid_type" && issue.message.endsWith("received undefined")
          ? "required"
          : issue.message;
    return { field: path || (issue.code === "unrecognized_keys" ? issue.keys.join(",") : ""), message };
  });
  const [first] = issues;
  const label = first?.field ? `${first.field}: ` : "";
  throw httpError("VALIDATION_FAILED", `${label}${first?.message ?? "invalid"}`, { in: where, issues });
}

/** Whether a parsed JSON value nests deeper than `max` (iterative: no recursion to overflow). */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (node === null || typeof node !== "object") continue;
    if (depth >= max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node))
      if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Refuses JSON bodies nested deeper than `maxDepth` (400): absurd nesting is only ever an attack
 * on recursive code further on (serializers, validators, the worker).
 */
export function jsonDepthLimit(maxDepth: number) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (req.body !== null && typeof req.body === "object" && nestedDeeperThan(req.body, maxDepth))
      next(httpError("BAD_REQUEST", `request body nests deeper than ${maxDepth} levels`, { max_depth: maxDepth }));
    else next();
  };
}

/**
 * JSON bodies must be UTF-8 (RFC 8259): another declared charset is refused (400) rather than
 * decoded, because a body that is not valid in it decodes to nothing and would read as `{}`.
 */
export function utf8JsonOnly() {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const type = req.headers["content-type"];
    const charset = typeof type === "string" && /json/i.test(type) ? /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(type)?.[1] : undefined;
    if (charset && !/^utf-?8$/i.test(charset)) next(httpError("BAD_REQUEST", `JSON bodies must be UTF-8, not ${charset.slice(0, 20)}`));
    else next();
  };
}
