import { type ReadinessChecks, readinessReport, type SwitchyardMetrics } from "@switchyard/observability";
import { Router } from "express";

/**
 * Unauthenticated: load balancers, orchestrators and Prometheus call these. `/metrics` carries
 * no tenant data (labels are agent, tool, queue and route names); keep it on the cluster network.
 */
export function healthRouter(readiness: () => Promise<ReadinessChecks>, metrics: SwitchyardMetrics): Router {
  const router = Router();

  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  router.get("/readyz", async (_req, res) => {
    const report = await readinessReport(readiness);
    res.status(report.status === "ready" ? 200 : 503).json(report);
  });

  router.get("/metrics", async (_req, res) => {
    const text = await metrics.scrape();
    res.setHeader("cache-control", "no-store");
    res.type(metrics.contentType).send(text);
  });

  return router;
}
