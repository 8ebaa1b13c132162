import type { AuditLog } from "@switchyard/store";
import { Router } from "express";
import { principalOf } from "../auth.js";
import type { RouteTable } from "../route-table.js";
import { AuditList, AuditQuery } from "../schemas.js";

export function auditRouter(audit: AuditLog, routes: RouteTable): Router {
  const router = Router();
  routes.add(
    router,
    {
      method: "get",
      path: "/audit",
      operationId: "listAudit",
      summary: "The tenant's audit log of mutating calls, newest first",
      tag: "Audit",
      role: "admin",
      query: AuditQuery,
      responses: { 200: { description: "A page of entries; pass next_cursor as cursor for the next", schema: AuditList } },
    },
    async (req, res, { query }) => {
      res.json(await audit.list(principalOf(req).tenant, query.limit, query.cursor));
    },
  );
  return router;
}
