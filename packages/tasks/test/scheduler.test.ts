import { parseConfigObject } from "@switchyard/config";
import { TaskQueues } from "@switchyard/queue";
import { CatalogCache, CatalogStore, Keys } from "@switchyard/store";
import { AgentDirectory, Scheduler } from "@switchyard/tasks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, deletePrefix, uniquePrefix } from "../../../test/helpers/redis.js";

/** The scheduler against real Redis: live claims from the catalog, loads from BullMQ's job counts. */
describe("Scheduler", () => {
  const redis = connect();
  const prefix = uniquePrefix("sched");
  const keys = new Keys(prefix);
  const config = parseConfigObject(
    {
      redis: { prefix },
      agents: {
        a: { type: "mock", capabilities: ["chat"], concurrency: 2 },
        b: { type: "mock", capabilities: ["chat"], concurrency: 2 },
        c: { type: "mock", capabilities: ["chat"], concurrency: 2 },
        scoped: { type: "mock", capabilities: ["chat"], tenants: ["other"] },
      },
    },
    { env: {}, file: "test" },
  );
  const queues = new TaskQueues({ connection: redis, prefix });
  const store = new CatalogStore(redis, keys);
  const catalog = new CatalogCache(store, 0);
  const agents = new AgentDirectory(config);

  beforeAll(async () => {
    // a and b are served by a live worker; c's worker claim has expired; scoped is another tenant's.
    for (const agent of ["a", "b", "scoped"])
      await store.publish(
        {
          agent,
          agent_type: "mock",
          tools: [{ name: "echo", description: "", input_schema: { type: "object" } }],
          updated_at: Date.now(),
          worker_id: "w1",
        },
        60_000,
        false,
      );
    await store.publish({ agent: "c", agent_type: "mock", tools: [], updated_at: Date.now(), worker_id: "w2" }, -1_000, false);
  });
  afterAll(async () => {
    await queues.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it("picks the least-loaded live agent, spreads ties, and honours the availability hook", async () => {
    const spread = new Set<string>();
    let i = 0;
    const alternating = new Scheduler({ agents, catalog, queues, random: () => (i++ % 2 === 0 ? 0.1 : 0.9) });
    for (let n = 0; n < 4; n++) spread.add(await alternating.pick("chat", "acme", "echo"));
    expect([...spread].sort()).toEqual(["a", "b"]);

    // Three tasks waiting on a: b is now the least loaded, whatever the random source says.
    for (let n = 0; n < 3; n++) await queues.get("a").add("echo", {} as never);
    const scheduler = new Scheduler({ agents, catalog, queues, random: () => 0 });
    expect(await scheduler.pick("chat", "acme")).toBe("b");
    const loads = await scheduler.loads([...(await agents.visibleTo("acme"))]);
    expect(loads.get("a")).toMatchObject({ queued: 3, capacity: 2, ratio: 1.5 });
    expect(loads.get("c")).toMatchObject({ capacity: 0, ratio: Number.POSITIVE_INFINITY });

    const breakerOpenOnB = new Scheduler({ agents, catalog, queues, isAvailable: async (agent) => agent.name !== "b" });
    expect(await breakerOpenOnB.pick("chat", "acme")).toBe("a");
    const noneAvailable = new Scheduler({ agents, catalog, queues, isAvailable: async () => false });
    await expect(noneAvailable.pick("chat", "acme")).rejects.toMatchObject({ code: "AGENT_UNAVAILABLE" });
    await expect(scheduler.pick("chat", "acme", "no-such-tool")).rejects.toMatchObject({ code: "AGENT_UNAVAILABLE" });
    await expect(scheduler.pick("vision", "acme")).rejects.toMatchObject({ code: "AGENT_NOT_FOUND" });
    // A tenant-scoped agent is only a candidate for its tenants.
    expect(
      await new Scheduler({ agents, catalog, queues, isAvailable: async (agent) => agent.name === "scoped" }).pick("chat", "other"),
    ).toBe("scoped");
  });
});
