import { silentLogger } from "@switchyard/observability";
import { createParticipants } from "@switchyard/participants";
import { afterAll, describe, expect, it } from "vitest";
import { connect, deletePrefix, uniquePrefix } from "../../../test/helpers/redis.js";
import { SETTINGS } from "./settings.js";

describe("delegation wait-for graph", () => {
  const prefix = uniquePrefix("graph");
  const redis = connect();
  const p = createParticipants({ redis, prefix, settings: SETTINGS, logger: silentLogger() });
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it("finds a three-agent cycle once, reports it as an event, and forgets it when an edge goes", async () => {
    expect(await p.graph.add("acme", "t1", "a", "b")).toBeUndefined();
    expect(await p.graph.add("acme", "t2", "b", "c")).toBeUndefined();
    expect(await p.graph.add("acme", "tx", "c", "d")).toBeUndefined();
    const found = await p.graph.add("acme", "t3", "c", "a");
    expect(found).toEqual({ agents: ["a", "b", "c", "a"], task_ids: ["t1", "t2", "t3"] });
    expect(await p.graph.cycles("acme")).toHaveLength(1);
    expect(await p.graph.cycles("globex")).toEqual([]);
    const events = await p.events.list("acme", undefined, 10);
    expect(events.map((e) => e.type)).toEqual(["delegation.deadlock"]);
    await p.graph.remove("acme", "t2");
    expect(await p.graph.cycles("acme")).toEqual([]);
  });
});
