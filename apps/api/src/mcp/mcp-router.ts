import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import express, { type Request, type Response, Router } from "express";
import { authenticate, type DynamicKeys, type KeyRing, principalOf } from "../auth.js";
import { httpError } from "../http-errors.js";
import { jsonDepthLimit, utf8JsonOnly } from "../validation.js";
import { createMcpServer, type McpFacadeDeps } from "./mcp-server.js";

export interface McpRouterDeps extends McpFacadeDeps {
  keys: KeyRing;
  /** Participant agents' keys: they reach /mcp as themselves (`agent_id` in the actor). */
  participantKeys?: DynamicKeys | undefined;
  /** API keys created through `POST /api/v1/keys`. */
  storedKeys?: DynamicKeys | undefined;
  bodyLimitBytes: number;
  /** Deeper JSON bodies are refused (400) before the MCP server sees them. */
  jsonMaxDepth: number;
}

/**
 * `/mcp`: Switchyard as an MCP server over Streamable HTTP, in the SDK's stateless mode (no
 * session id): each POST gets a fresh server and transport bound to the caller's key, so no
 * replica holds session state and a load balancer may send each request anywhere. GET (a
 * server-to-client stream) and DELETE (end a session) have no meaning without sessions: 405.
 */
export function mcpRouter(deps: McpRouterDeps): Router {
  const router = Router();
  router.use("/mcp", authenticate(deps.keys, deps.storedKeys, deps.participantKeys));
  router.post(
    "/mcp",
    utf8JsonOnly(),
    express.json({ limit: deps.bodyLimitBytes, strict: true }),
    jsonDepthLimit(deps.jsonMaxDepth),
    async (req: Request, res: Response) => {
      const principal = principalOf(req);
      const server = createMcpServer(deps, {
        tenant: principal.tenant,
        role: principal.role,
        key_id: principal.key_id,
        agent_id: principal.agent_id,
      });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on("close", () => {
        transport.close().catch(() => {});
        server.close().catch(() => {});
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    },
  );
  router.all("/mcp", (req, res, next) => {
    res.setHeader("Allow", "POST");
    next(httpError("METHOD_NOT_ALLOWED", `${req.method} /mcp is not supported: this endpoint is stateless (POST only)`));
  });
  return router;
}
