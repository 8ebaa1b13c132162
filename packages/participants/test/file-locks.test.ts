import { silentLogger } from "@switchyard/observability";
import { createParticipants, normalizeLockPath, type Participants } from "@switchyard/participants";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, deletePrefix, uniquePrefix } from "../../../test/helpers/redis.js";
import { SETTINGS } from "./settings.js";

describe("file locks", () => {
  const prefix = uniquePrefix("locks");
  const connections: Redis[] = [];
  /** One Participants (own Redis connection) per simulated agent process. */
  const instance = (): Participants => {
    const redis = connect();
    connections.push(redis);
    return createParticipants({ redis, prefix, settings: SETTINGS, logger: silentLogger() });
  };
  let admin: Redis;

  beforeAll(() => {
    admin = connect();
  });
  afterAll(async () => {
    await deletePrefix(admin, prefix);
    for (const c of connections) c.disconnect();
    admin.disconnect();
  });

  it("normalizes paths and refuses ones that leave the root", () => {
    expect(normalizeLockPath("a/../b")).toBe("b");
    expect(normalizeLockPath("./src//x/./y.ts")).toBe("src/x/y.ts");
    expect(normalizeLockPath("/src/y.ts/")).toBe("src/y.ts");
    expect(normalizeLockPath("src\\win\\file.txt")).toBe("src/win/file.txt");
    for (const bad of ["../x", "a/../../x", "..", "", ".", "a/.."]) expect(() => normalizeLockPath(bad), bad).toThrow();
  });

  it("20 concurrent acquirers: one holder at a time, fencing tokens strictly increase, non-owners cannot release", async () => {
    const agents = Array.from({ length: 20 }, (_, i) => ({ id: `agent-${i}`, p: instance() }));
    let holders = 0;
    let maxHolders = 0;
    const tokens: bigint[] = [];
    const refusals: string[] = [];
    await Promise.all(
      agents.map(async ({ id, p }, i) => {
        // Each asks for a differently spelled form of the same path.
        const path = i % 2 === 0 ? "shared/file.txt" : "shared/tmp/../file.txt";
        const lock = await p.locks.acquire("acme", id, path, 10_000, 20_000);
        holders++;
        maxHolders = Math.max(maxHolders, holders);
        tokens.push(BigInt(lock.token as string));
        // While holding it, someone else's release is refused and the lock stays ours.
        const other = agents[(i + 1) % agents.length] as (typeof agents)[number];
        const refused = await other.p.locks.release("acme", other.id, "shared/file.txt").catch((e: { code: string }) => e.code);
        refusals.push(String(refused));
        expect((await p.locks.check("acme", "shared/file.txt")).owner).toBe(id);
        holders--;
        await p.locks.release("acme", id, path, lock.token as string);
      }),
    );
    expect(maxHolders).toBe(1);
    expect(tokens).toHaveLength(20);
    for (let i = 1; i < tokens.length; i++) expect(tokens[i] as bigint).toBeGreaterThan(tokens[i - 1] as bigint);
    expect(refusals).toEqual(Array(20).fill("FORBIDDEN"));
    expect((await agents[0]?.p.locks.check("acme", "shared/file.txt"))?.held).toBe(false);
  });

  it("a dead owner's lock expires with its TTL; a stale token cannot release the new lock", async () => {
    const dead = instance();
    const live = instance();
    const first = await dead.locks.acquire("acme", "dead", "x/y", 200, 0);
    await expect(live.locks.acquire("acme", "live", "x/y", 5_000, 0)).rejects.toMatchObject({ code: "CONFLICT" });
    const second = await live.locks.acquire("acme", "live", "x/y", 5_000, 5_000);
    expect(BigInt(second.token as string)).toBeGreaterThan(BigInt(first.token as string));
    await expect(dead.locks.release("acme", "dead", "x/y", first.token as string)).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(live.locks.release("acme", "live", "x/y", first.token as string)).rejects.toMatchObject({ code: "CONFLICT" });
    await live.locks.renew("acme", "live", "x/y", 5_000, second.token as string);
    // Locks are per tenant.
    expect((await live.locks.check("globex", "x/y")).held).toBe(false);
  });
});
