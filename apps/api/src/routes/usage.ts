import type { SwitchyardConfig } from "@switchyard/config";
import type { Redis } from "@switchyard/redis";
import { Keys, UsageStore } from "@switchyard/store";
import { Router } from "express";
import { z } from "zod";
import { principalOf } from "../auth.js";
import type { RouteTable } from "../route-table.js";

const UsageReply = z.object({
  tenant: z.string(),
  totals: z.record(z.string(), z.unknown()),
  agents: z.record(z.string(), z.unknown()),
});

/**
 * `GET /usage`: the caller's tenant's LLM usage (requests, tokens, estimated cost), in total and
 * per agent, as provider agents record it in Redis. Never another tenant's.
 */
export function usageRouter(config: SwitchyardConfig, redis: Redis, routes: RouteTable): Router {
  const router = Router();
  const usage = new UsageStore(redis, new Keys(config.redis.prefix));

  routes.add(
    router,
    {
      method: "get",
      path: "/usage",
      operationId: "getUsage",
      summary: "The tenant's LLM usage (requests, tokens, estimated cost), in total and per agent",
      tag: "Usage",
      role: "viewer",
      responses: { 200: { description: "Usage", schema: UsageReply } },
    },
    async (req, res) => {
      const { tenant } = principalOf(req);
      const { totals, agents } = await usage.tenant(tenant);
      res.json({ tenant, totals, agents });
    },
  );

  return router;
}
