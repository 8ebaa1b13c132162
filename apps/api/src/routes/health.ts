import type { Redis } from "@switchyard/redis";
import { Router } from "express";

/** Unauthenticated: load balancers and orchestrators call these. */
export function healthRouter(redis: Redis): Router {
  const router = Router();

  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  router.get("/readyz", async (_req, res) => {
    const checks: Record<string, string> = {};
    try {
      const pong = await Promise.race([
        redis.ping(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error("timeout")), 1_000).unref()),
      ]);
      checks.redis = pong === "PONG" ? "ok" : `unexpected reply ${pong}`;
    } catch (error) {
      checks.redis = `unreachable (${(error as Error).message})`;
    }
    const ready = Object.values(checks).every((v) => v === "ok");
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not_ready", checks });
  });

  return router;
}
