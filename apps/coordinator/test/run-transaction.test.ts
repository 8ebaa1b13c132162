import { once } from "node:events";
import { waitForReady } from "@switchyard/redis";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { connect, deletePrefix, redisUrl, uniquePrefix } from "../../../test/helpers/redis.js";
import { TransactionAborted, TxConnection, TxPool } from "../src/run-transaction.js";

/** A run transition: WATCH + reads, then BullMQ's flow MULTI carrying the state write, or nothing. */
describe("coordinator transaction connection", () => {
  const prefix = uniquePrefix("tx");
  const redis = connect();
  const open = () =>
    new TxConnection(
      new Redis(redisUrl(), { enableOfflineQueue: false, autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 1 }),
      prefix,
    );
  const pool = new TxPool(open, 2);
  const queue = new Queue("q", { connection: connect(), prefix });
  const key = `${prefix}:run`;
  const flow = (id: string) => ({
    name: "n",
    queueName: "q",
    data: {},
    opts: { jobId: id },
    children: [{ name: "c", queueName: "q", data: {}, opts: { jobId: `${id}-child` } }],
  });

  afterAll(async () => {
    await pool.close();
    await queue.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it("adds the flow and the state write in one EXEC", async () => {
    await redis.set(key, "1");
    const tx = await pool.acquire();
    const { replies, epoch } = await tx.watch(key, (p) => p.get(key));
    expect(replies).toEqual(["1"]);
    const reply = await tx.commit(epoch, [flow("a")], (m) => m.incr(key));
    pool.release(tx);
    expect(reply).toBe(2);
    expect(await queue.getJob("a")).toBeDefined();
    expect(await queue.getJob("a-child")).toBeDefined();
  });

  it("adds and writes nothing when the key changed since WATCH", async () => {
    await redis.set(key, "1");
    const tx = await pool.acquire();
    const { epoch } = await tx.watch(key, (p) => p.get(key));
    await redis.set(key, "changed");
    await expect(tx.commit(epoch, [flow("b")], (m) => m.set(key, "mine"))).rejects.toBeInstanceOf(TransactionAborted);
    pool.release(tx);
    expect(await redis.get(key)).toBe("changed");
    expect(await queue.getJob("b")).toBeUndefined();
    expect(await queue.getJob("b-child")).toBeUndefined();
    // The connection is usable again (EXEC cleared the WATCH).
    const again = await pool.acquire();
    const next = await again.watch(key, (p) => p.get(key));
    expect(await again.commit(next.epoch, [], (m) => m.set(key, "mine"))).toBe("OK");
    pool.release(again);
    expect(await redis.get(key)).toBe("mine");
  });

  it("never sends EXEC on a socket that did not WATCH (reconnected in between)", async () => {
    await redis.set(key, "1");
    const tx = await pool.acquire();
    const { epoch } = await tx.watch(key, (p) => p.get(key));
    const closed = once(tx.redis, "close");
    tx.redis.disconnect(true);
    await closed;
    await waitForReady(tx.redis);
    await expect(tx.commit(epoch, [flow("c")], (m) => m.set(key, "mine"))).rejects.toBeInstanceOf(TransactionAborted);
    pool.release(tx);
    expect(await redis.get(key)).toBe("1");
    expect(await queue.getJob("c")).toBeUndefined();
  });

  it("lends at most `max` connections; the next caller waits for a release", async () => {
    const a = await pool.acquire();
    const b = await pool.acquire();
    let third: TxConnection | undefined;
    const waiting = pool.acquire().then((tx) => {
      third = tx;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(third).toBeUndefined();
    pool.release(a);
    await waiting;
    expect(third).toBe(a);
    pool.release(b);
    pool.release(a);
  });
});
