import type { SwitchyardConfig } from "@switchyard/config";
import type { Redis } from "@switchyard/redis";
import { Keys, UsageStore } from "@switchyard/store";
import { Router } from "express";
import { principalOf, requireRole } from "../auth.js";

/**
 * `GET /usage`: the caller's tenant's LLM usage (requests, tokens, estimated cost), in total and
 * per agent, as provider agents record it in Redis. Never another tenant's.
 */
export function usageRouter(config: SwitchyardConfig, redis: Redis): Router {
  const router = Router();
  const usage = new UsageStore(redis, new Keys(config.redis.prefix));

  router.get("/usage", requireRole("viewer"), async (req, res) => {
    const { tenant } = principalOf(req);
    const { totals, agents } = await usage.tenant(tenant);
    res.json({ tenant, totals, agents });
  });

  return router;
}
