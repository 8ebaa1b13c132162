import { type Redis, waitForReady } from "@switchyard/redis";
import { ReportStepRequest, runView, type WorkflowService } from "@switchyard/workflow";
import { Router } from "express";
import { z } from "zod";
import { principalOf, requireRole } from "../auth.js";
import { parseOr400 } from "../validation.js";

const ListRunsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  /** Runs created before this time (ms), for paging. */
  before: z.coerce.number().int().optional(),
  status: z.enum(["pending", "running", "completed", "failed", "cancelled"]).optional(),
  workflow: z.string().max(63).optional(),
});
const ContextQuery = z.strictObject({ version: z.coerce.number().int().min(0).optional() });
const CancelBody = z.strictObject({ reason: z.string().max(1_000).optional() });

/** Runs: read, list, stream transitions (SSE), cancel, report participant/approval steps. */
export function runsRouter(workflows: WorkflowService, redis: Redis): Router {
  const router = Router();

  router.get("/runs", requireRole("viewer"), async (req, res) => {
    const query = parseOr400(ListRunsQuery, req.query, "query");
    const runs = (await workflows.store.list(principalOf(req).tenant, query.limit, query.before)).filter(
      (r) => (!query.status || r.status === query.status) && (!query.workflow || r.workflow === query.workflow),
    );
    const last = runs.at(-1);
    res.json({ runs: runs.map(runView), next_before: runs.length > 0 && last ? last.created_at : null });
  });

  router.get("/runs/:id", requireRole("viewer"), async (req, res) => {
    res.json(runView(await workflows.run(principalOf(req), String(req.params.id))));
  });

  router.get("/runs/:id/context", requireRole("viewer"), async (req, res) => {
    const { version } = parseOr400(ContextQuery, req.query, "query");
    res.json(await workflows.context(principalOf(req), String(req.params.id), version));
  });

  router.post("/runs/:id/cancel", requireRole("operator"), async (req, res) => {
    const body = parseOr400(CancelBody, req.body ?? {}, "body");
    const run = await workflows.cancel(principalOf(req), String(req.params.id), body.reason);
    res.status(202).json({ run_id: run.run_id, status: "cancelling" });
  });

  for (const outcome of ["complete", "fail"] as const) {
    router.post(`/runs/:id/steps/:step/${outcome}`, requireRole("operator"), async (req, res) => {
      const body = parseOr400(ReportStepRequest, req.body ?? {}, "body");
      const principal = principalOf(req);
      const accepted = await workflows.report(principal, String(req.params.id), String(req.params.step), outcome, body);
      res.status(202).json(accepted);
    });
  }

  router.post("/runs/:id/steps/:step/heartbeat", requireRole("operator"), async (req, res) => {
    res.status(202).json(await workflows.heartbeat(principalOf(req), String(req.params.id), String(req.params.step)));
  });

  // Server-sent events: every transition of the run, from its Redis stream; ends when the run has.
  router.get("/runs/:id/events", requireRole("viewer"), async (req, res) => {
    const principal = principalOf(req);
    const runId = String(req.params.id);
    await workflows.run(principal, runId);
    res.status(200).set({ "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    res.flushHeaders();
    // XREAD BLOCK holds its connection: each stream gets its own, which waits out Redis blips.
    const blocking = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
    blocking.on("error", () => {});
    let open = true;
    res.on("close", () => {
      open = false;
      blocking.disconnect();
    });
    let after = typeof req.headers["last-event-id"] === "string" ? req.headers["last-event-id"] : "0";
    try {
      await waitForReady(blocking);
      while (open) {
        const batch = await workflows.store.events(runId, after, 5_000, blocking);
        for (const { id, transition } of batch) {
          res.write(`id: ${id}\nevent: ${transition.kind}\ndata: ${JSON.stringify(transition)}\n\n`);
          after = id;
        }
        if (batch.length === 0) {
          const run = await workflows.run(principal, runId);
          if (run.status === "completed" || run.status === "failed" || run.status === "cancelled") break;
          res.write(": keep-alive\n\n");
        } else if (batch.some((b) => b.transition.kind === "run" && ["completed", "failed", "cancelled"].includes(b.transition.status)))
          break;
      }
    } catch {
      // Client gone or Redis closed: end the stream.
    } finally {
      blocking.disconnect();
      res.end();
    }
  });

  return router;
}
