import { Redis, type RedisOptions } from "ioredis";

export type { Redis } from "ioredis";

export type ConnectionRole =
  /** Commands from request handlers: fail fast while Redis is down so the api answers 503. */
  | "client"
  /** BullMQ workers and blocking reads: wait out outages, never give up on a command. */
  | "blocking"
  /** Pub/sub subscriptions. */
  | "subscriber";

export interface CreateRedisOptions {
  url: string;
  role: ConnectionRole;
  /** Shown in CLIENT LIST, which makes a busy Redis easy to read. */
  name?: string;
  /**
   * Coalesce commands issued in the same event-loop tick into one socket write (ioredis auto
   * pipelining). For a shared request-path client under concurrency: fewer write syscalls, the
   * same commands and replies. Not for blocking connections.
   */
  autoPipelining?: boolean;
}

/** The one place that turns a REDIS_URL into an ioredis connection. */
export function createRedis(options: CreateRedisOptions): Redis {
  const common: RedisOptions = {
    connectionName: options.name,
    // Reconnect forever with a capped backoff: Redis restarts must not need a process restart.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
    lazyConnect: false,
  };
  const byRole: Record<ConnectionRole, RedisOptions> = {
    client: { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5_000 },
    blocking: { maxRetriesPerRequest: null, enableOfflineQueue: true },
    subscriber: { maxRetriesPerRequest: null, enableOfflineQueue: true },
  };
  const pipelining = options.autoPipelining && options.role === "client" ? { enableAutoPipelining: true } : {};
  return new Redis(options.url, { ...common, ...byRole[options.role], ...pipelining });
}

/** Resolves when the connection is ready (or rejects after `timeoutMs`). */
export async function waitForReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off("ready", onReady);
    };
    redis.on("ready", onReady);
  });
}

/** The URL with any password removed, for printing. */
export function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "redis://(unparseable url)";
  }
}

/** QUIT (lets pending replies arrive), or drop the socket if Redis is unreachable. */
export async function closeRedis(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
