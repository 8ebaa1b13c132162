import type { ApiKeyStore } from "@switchyard/store";
import { Router } from "express";
import { principalOf, type StoredKeyCache } from "../auth.js";
import { httpError } from "../http-errors.js";
import type { RouteTable } from "../route-table.js";
import { ApiKeyList, CreateApiKeyRequest, CreatedApiKey } from "../schemas.js";

/** API keys of the admin's own tenant, kept hashed in Redis. */
export function keysRouter(store: ApiKeyStore, cache: StoredKeyCache, routes: RouteTable): Router {
  const router = Router();

  routes.add(
    router,
    {
      method: "post",
      path: "/keys",
      operationId: "createApiKey",
      summary: "Create an API key for this tenant",
      description: "The key is in this response only; Redis keeps its SHA-256. Usable on every api replica at once.",
      tag: "Keys",
      role: "admin",
      body: CreateApiKeyRequest,
      responses: { 201: { description: "Created", schema: CreatedApiKey } },
    },
    async (req, res, { body }) => {
      const principal = principalOf(req);
      const { key, record } = await store.create({
        tenant: principal.tenant,
        role: body.role,
        ...(body.name ? { name: body.name } : {}),
        ...(body.rate_limit ? { rate_limit: body.rate_limit } : {}),
        created_by: principal.key_id,
      });
      res.locals.auditTarget = record.id;
      res.status(201).json({ ...record, key });
    },
  );

  routes.add(
    router,
    {
      method: "get",
      path: "/keys",
      operationId: "listApiKeys",
      summary: "This tenant's API keys created through the API (never the keys themselves)",
      tag: "Keys",
      role: "admin",
      responses: { 200: { description: "The keys", schema: ApiKeyList } },
    },
    async (req, res) => {
      res.json({ keys: await store.list(principalOf(req).tenant) });
    },
  );

  routes.add(
    router,
    {
      method: "delete",
      path: "/keys/:id",
      operationId: "revokeApiKey",
      summary: "Revoke an API key (every replica refuses it within seconds)",
      tag: "Keys",
      role: "admin",
      params: { id: "Key id" },
      responses: { 204: { description: "Revoked" } },
    },
    async (req, res) => {
      const id = String(req.params.id);
      res.locals.auditTarget = id.slice(0, 64);
      if (!(await store.revoke(principalOf(req).tenant, id))) throw httpError("NOT_FOUND", `no API key ${id.slice(0, 64)}`);
      cache.forget(id);
      res.status(204).end();
    },
  );

  return router;
}
