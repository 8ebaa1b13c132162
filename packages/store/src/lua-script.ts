import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/** Per connection: bumped on every (re)connect, after which the server may have lost its scripts. */
const connections = new WeakMap<Redis, { generation: number }>();

function generationOf(redis: Redis): { generation: number } {
  let state = connections.get(redis);
  if (!state) {
    const created = { generation: 0 };
    state = created;
    connections.set(redis, state);
    redis.on("ready", () => created.generation++);
  }
  return state;
}

/**
 * A Lua script run by its SHA (EVALSHA): one command per call, and the script text crosses the
 * wire once per connection and reconnect. The first call on a connection sends SCRIPT LOAD
 * right before the EVALSHA (pipelined, not awaited), so even that call finds the script and runs
 * in the order it was issued — which lets callers fire a script without awaiting it and rely on
 * it landing before their next command on the same connection. A NOSCRIPT anyway (SCRIPT FLUSH)
 * falls back to EVAL.
 */
export class LuaScript {
  private readonly sha: string;
  /** Connection → its generation when SCRIPT LOAD was last sent on it. */
  private readonly loaded = new WeakMap<Redis, number>();

  constructor(
    readonly name: string,
    private readonly source: string,
    private readonly numberOfKeys: number,
  ) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  /** Issues the command before returning (nothing awaited first); resolves with the script's reply. */
  run(redis: Redis, keys: string[], args: Array<string | number>): Promise<unknown> {
    if (keys.length !== this.numberOfKeys) return Promise.reject(new Error(`${this.name}: expected ${this.numberOfKeys} keys`));
    const state = generationOf(redis);
    if (this.loaded.get(redis) !== state.generation) {
      this.loaded.set(redis, state.generation);
      redis.script("LOAD", this.source).catch(() => this.loaded.delete(redis));
    }
    return redis.evalsha(this.sha, this.numberOfKeys, ...keys, ...args).catch((error: unknown) => {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return redis.eval(this.source, this.numberOfKeys, ...keys, ...args);
    });
  }
}
