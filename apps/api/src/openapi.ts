import { ERROR_CODES, ErrorResponse } from "@switchyard/core";
import { z } from "zod";
import type { RouteSpec } from "./route-table.js";

export const API_PREFIX = "/api/v1";

type JsonObject = Record<string, unknown>;

/** JSON Schema (2020-12, as OpenAPI 3.1 uses) of a zod schema, as requests send or responses carry it. */
export function jsonSchemaOf(schema: z.ZodType, io: "input" | "output"): JsonObject {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }) as JsonObject;
  return rest;
}

const ERROR_RESPONSES: Record<number, string> = {
  400: "Malformed request: `{error_code, message, details}` names the bad field",
  401: "Missing or invalid API key",
  403: "The key's role may not do this",
  404: "No such resource (or it belongs to another tenant)",
  413: "Request body too large",
  429: "Rate limit or tenant quota exceeded; see Retry-After",
  500: "Internal error (no details are leaked)",
  503: "Redis or the agent is unavailable; see Retry-After",
};

/** The OpenAPI 3.1 document of the REST API, derived from the route table. */
export function openApiDocument(routes: readonly RouteSpec[], version: string): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const spec of routes) {
    const path = `${API_PREFIX}${spec.path.replace(/:([A-Za-z_]+)/g, "{$1}")}`;
    const parameters: JsonObject[] = [];
    for (const [name, description] of Object.entries(spec.params ?? {}))
      parameters.push({ name, in: "path", required: true, description, schema: { type: "string" } });
    if (spec.query) {
      const query = jsonSchemaOf(spec.query, "input") as { properties?: Record<string, JsonObject>; required?: string[] };
      for (const [name, schema] of Object.entries(query.properties ?? {}))
        parameters.push({ name, in: "query", required: query.required?.includes(name) ?? false, schema });
    }
    for (const [name, description] of Object.entries(spec.headers ?? {}))
      parameters.push({ name, in: "header", required: false, description, schema: { type: "string" } });

    const responses: Record<string, JsonObject> = {};
    for (const [status, response] of Object.entries(spec.responses)) {
      const content =
        response.schema || response.contentType
          ? { [response.contentType ?? "application/json"]: response.schema ? { schema: jsonSchemaOf(response.schema, "output") } : {} }
          : Number(status) >= 400
            ? { "application/json": { schema: { $ref: "#/components/schemas/ErrorResponse" } } }
            : undefined;
      responses[status] = {
        description: response.description,
        ...(content ? { content } : {}),
        ...(response.headers
          ? {
              headers: Object.fromEntries(
                Object.entries(response.headers).map(([h, d]) => [h, { description: d, schema: { type: "string" } }]),
              ),
            }
          : {}),
      };
    }
    for (const [status, description] of Object.entries(ERROR_RESPONSES)) {
      if (responses[status]) continue;
      if (status === "401" && spec.role === null) continue;
      responses[status] = { description, content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorResponse" } } } };
    }

    paths[path] ??= {};
    (paths[path] as Record<string, JsonObject>)[spec.method] = {
      operationId: spec.operationId,
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      tags: [spec.tag],
      ...(spec.role === null
        ? { security: [] }
        : spec.undocumented
          ? { "x-switchyard-undocumented": true, "x-switchyard-role": spec.role }
          : { "x-switchyard-role": spec.role }),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(spec.body
        ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchemaOf(spec.body, "input") } } } }
        : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Switchyard API",
      version,
      description:
        "MCP agent orchestration over BullMQ and Redis. Every endpoint but health and this document needs an API key: " +
        "`Authorization: Bearer <key>` (or `X-API-Key`). `/api` is an alias of `/api/v1`.",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API key from auth.keys" } },
      schemas: {
        ErrorResponse: {
          ...jsonSchemaOf(ErrorResponse, "output"),
          properties: {
            error_code: { type: "string", enum: [...ERROR_CODES] },
            message: { type: "string" },
            details: {},
          },
        },
      },
    },
  };
}
