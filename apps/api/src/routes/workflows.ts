import { StartRunRequest, type WorkflowService } from "@switchyard/workflow";
import express, { Router } from "express";
import { z } from "zod";
import { principalOf, requireRole } from "../auth.js";
import { parseOr400 } from "../validation.js";

const VersionQuery = z.strictObject({ version: z.coerce.number().int().min(1).optional() });

/** Workflow definitions (JSON or YAML bodies) and starting runs. */
export function workflowsRouter(workflows: WorkflowService, bodyLimit: number): Router {
  const router = Router();
  const yaml = express.text({ type: ["application/yaml", "application/x-yaml", "text/yaml", "text/plain"], limit: bodyLimit });

  router.post("/workflows", requireRole("operator"), yaml, async (req, res) => {
    const body = typeof req.body === "string" ? req.body : parseOr400(z.record(z.string(), z.unknown()), req.body, "body");
    const defined = await workflows.define(principalOf(req), body);
    res
      .status(defined.created ? 201 : 200)
      .location(`${req.baseUrl}/workflows/${defined.name}`)
      .json(defined);
  });

  router.get("/workflows", requireRole("viewer"), async (req, res) => {
    res.json({ workflows: await workflows.workflows(principalOf(req)) });
  });

  router.get("/workflows/:name", requireRole("viewer"), async (req, res) => {
    const { version } = parseOr400(VersionQuery, req.query, "query");
    res.json(await workflows.workflow(principalOf(req), String(req.params.name), version));
  });

  router.post("/workflows/:name/runs", requireRole("operator"), async (req, res) => {
    const body = parseOr400(StartRunRequest, req.body ?? {}, "body");
    const key = req.get("idempotency-key");
    const started = await workflows.start(principalOf(req), String(req.params.name), body, key);
    res
      .status(started.created ? 201 : 200)
      .location(`${req.baseUrl}/runs/${started.run_id}`)
      .json({ run_id: started.run_id, status: started.status });
  });

  return router;
}
