import { closeRedis, waitForReady } from "@switchyard/redis";
import { defineRunScripts } from "@switchyard/workflow";
import { type FlowJob, FlowProducer } from "bullmq";
import type { ChainableCommander, Redis } from "ioredis";

/** EXEC did not run the transaction: the run changed since it was read (or the socket did). */
export class TransactionAborted extends Error {}

interface PendingCommit {
  /** Connection epoch at WATCH time: a new socket has no WATCH. */
  epoch: number;
  tail: ((multi: ChainableCommander) => void) | undefined;
  used: boolean;
  replies?: Array<[Error | null, unknown]>;
}

/**
 * A dedicated connection for one run transition at a time: the run is WATCHed while its next
 * state is computed, and that state is committed in the SAME MULTI/EXEC as the BullMQ jobs it
 * implies (the next steps' flows, their timers). So a step's successor is enqueued in the round
 * trip that records the step as done, and only if no other coordinator changed the run since it
 * was read: an aborted EXEC adds nothing and writes nothing.
 *
 * The flows are added by BullMQ's own `FlowProducer.addBulk` (its atomic MULTI); the commit is
 * appended to that MULTI through the connection's `multi()`, so the jobs are exactly the ones
 * BullMQ would add. The connection never resends a command after a reconnect
 * (`autoResendUnfulfilledCommands: false`, no offline queue) and EXEC is only sent on the socket
 * that holds the WATCH, else the transaction counts as aborted and the caller starts over.
 */
export class TxConnection {
  readonly flows: FlowProducer;
  private epoch = 0;
  private pending: PendingCommit | undefined;
  /** A WATCH may still be set on this socket (a transition ended without EXEC). */
  private watching = false;

  constructor(
    readonly redis: Redis,
    prefix: string,
  ) {
    defineRunScripts(redis);
    redis.on("error", () => {});
    const reset = () => {
      this.epoch += 1;
      this.watching = false;
    };
    redis.on("connect", reset);
    redis.on("close", reset);
    const multi = redis.multi.bind(redis) as () => ChainableCommander;
    (redis as unknown as { multi: () => ChainableCommander }).multi = () => this.intercept(multi());
    this.flows = new FlowProducer({ connection: redis, prefix });
    this.flows.on("error", () => {});
  }

  async ready(timeoutMs = 10_000): Promise<void> {
    await waitForReady(this.redis, timeoutMs);
  }

  /**
   * WATCH `key` (after an UNWATCH when a previous transition left a WATCH), then the reads
   * `queue` adds, in one round trip. Returns the reads' replies and the epoch to pass to `commit`.
   */
  async watch(key: string, queue: (pipeline: ChainableCommander) => void): Promise<{ replies: unknown[]; epoch: number }> {
    const pipeline = this.redis.pipeline();
    const skip = this.watching ? 2 : 1;
    if (this.watching) pipeline.unwatch();
    pipeline.watch(key);
    queue(pipeline);
    const epoch = this.epoch;
    this.watching = true;
    const results = (await pipeline.exec()) ?? [];
    const replies: unknown[] = [];
    for (const [error, reply] of results.slice(skip)) {
      if (error) throw error;
      replies.push(reply);
    }
    return { replies, epoch };
  }

  /**
   * EXEC `flows` and `tail` (the state commit) as one transaction. Returns the reply of the last
   * command `tail` added, or throws {@link TransactionAborted} when WATCH (or a reconnect since
   * `watch`) stopped it; then nothing was written.
   */
  async commit(epoch: number, flows: FlowJob[], tail: ((multi: ChainableCommander) => void) | undefined): Promise<unknown> {
    const pending: PendingCommit = { epoch, tail, used: false };
    this.pending = pending;
    try {
      if (flows.length > 0) await this.flows.addBulk(flows);
      else await this.redis.multi().exec();
    } finally {
      this.pending = undefined;
    }
    if (!pending.used) throw new Error("the flow producer did not add its jobs in a MULTI on the transaction connection");
    const replies = pending.replies ?? [];
    const last = replies[replies.length - 1];
    if (!tail || !last) return undefined;
    if (last[0]) throw last[0];
    return last[1];
  }

  /** The next MULTI of a commit: `tail` is appended, and EXEC is sent only on the WATCHing socket. */
  private intercept(multi: ChainableCommander): ChainableCommander {
    const pending = this.pending;
    if (!pending || pending.used) return multi;
    pending.used = true;
    const exec = multi.exec.bind(multi);
    (multi as { exec: () => Promise<unknown> }).exec = () => {
      pending.tail?.(multi);
      if (this.redis.status !== "ready" || this.epoch !== pending.epoch)
        return Promise.reject(new TransactionAborted("the connection was re-established since WATCH"));
      // EXEC clears the WATCH, whatever its outcome.
      this.watching = false;
      return exec().then((replies) => {
        if (replies === null) throw new TransactionAborted("the run changed since it was read");
        pending.replies = replies as Array<[Error | null, unknown]>;
        return replies;
      });
    };
    return multi;
  }

  async close(): Promise<void> {
    await this.flows.close().catch(() => {});
    await closeRedis(this.redis);
  }
}

/** Transaction connections, one per transition in progress (at most `max`, then callers wait), reused. */
export class TxPool {
  private readonly idle: TxConnection[] = [];
  private readonly all = new Set<TxConnection>();
  private readonly waiters: Array<(tx: TxConnection) => void> = [];

  constructor(
    private readonly open: () => TxConnection,
    private readonly max = 32,
  ) {}

  async acquire(): Promise<TxConnection> {
    let tx = this.idle.pop();
    if (!tx && this.all.size < this.max) {
      tx = this.open();
      this.all.add(tx);
    }
    tx ??= await new Promise<TxConnection>((resolve) => this.waiters.push(resolve));
    try {
      await tx.ready();
    } catch (error) {
      this.release(tx);
      throw error;
    }
    return tx;
  }

  release(tx: TxConnection): void {
    if (!this.all.has(tx)) return;
    const waiter = this.waiters.shift();
    if (waiter) waiter(tx);
    else this.idle.push(tx);
  }

  async close(): Promise<void> {
    const all = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    await Promise.all(all.map((tx) => tx.close()));
  }
}
