import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { findRedisServer, RedisServerNotFoundError, startEmbeddedRedis } from "@switchyard/redis";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("embedded redis-server", () => {
  it("starts on a free loopback port with AOF on, and stops without leaving a process", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sy-embedded-"));
    const server = await startEmbeddedRedis({ dir, searchPath: process.env.PATH, appendfsync: "always" });
    const client = new Redis(server.url);
    expect(await client.ping()).toBe("PONG");
    expect(await client.config("GET", "appendonly")).toEqual(["appendonly", "yes"]);
    expect(await client.config("GET", "appendfsync")).toEqual(["appendfsync", "always"]);
    expect(await client.config("GET", "maxmemory-policy")).toEqual(["maxmemory-policy", "noeviction"]);
    client.disconnect();
    expect(existsSync(path.join(dir, "switchyard-redis.pid"))).toBe(true);
    await server.stop();
    expect(alive(server.pid)).toBe(false);
    expect(existsSync(path.join(dir, "switchyard-redis.pid"))).toBe(false);
  });

  it("stops a server a killed Switchyard left behind before starting anew in the same folder", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sy-embedded-stale-"));
    const first = await startEmbeddedRedis({ dir, searchPath: process.env.PATH, appendfsync: false });
    // The owner "dies" without calling stop(): the pid file is left behind.
    const second = await startEmbeddedRedis({ dir, searchPath: process.env.PATH, appendfsync: false });
    await first.exited;
    expect(alive(first.pid)).toBe(false);
    await second.stop();
  });

  it("says how to install redis-server, or use REDIS_URL, when there is none", () => {
    expect(() => findRedisServer(undefined, "/nonexistent")).not.toThrow(); // found in /usr/bin fallback on this machine
    expect(() => findRedisServer("/nonexistent/redis-server", undefined)).toThrow(RedisServerNotFoundError);
    try {
      findRedisServer("/nonexistent/redis-server", undefined);
    } catch (error) {
      expect((error as Error).message).toMatch(/apt-get install -y redis-server/);
      expect((error as Error).message).toMatch(/REDIS_URL=redis:\/\//);
    }
  });
});
