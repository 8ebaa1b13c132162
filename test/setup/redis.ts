import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type EmbeddedRedis, startEmbeddedRedis } from "@switchyard/redis";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
    redisSource: "REDIS_URL" | "testcontainers" | "redis-server";
  }
}

/**
 * One real Redis for the run: REDIS_URL when set, else a Testcontainers Redis when a Docker
 * engine answers, else a redis-server child on a free port. Tests isolate themselves with their
 * own key prefix (and crash tests start their own server).
 */
export default async function setup(project: TestProject) {
  if (process.env.REDIS_URL) {
    project.provide("redisUrl", process.env.REDIS_URL);
    project.provide("redisSource", "REDIS_URL");
    return;
  }
  const container = await tryTestcontainers();
  if (container) {
    project.provide("redisUrl", container.url);
    project.provide("redisSource", "testcontainers");
    return container.stop;
  }
  const dir = mkdtempSync(path.join(tmpdir(), "sy-test-redis-"));
  const server: EmbeddedRedis = await startEmbeddedRedis({ dir, appendfsync: false, searchPath: process.env.PATH });
  project.provide("redisUrl", server.url);
  project.provide("redisSource", "redis-server");
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}

async function tryTestcontainers(): Promise<{ url: string; stop: () => Promise<void> } | undefined> {
  const socket = process.env.DOCKER_HOST ?? (existsSync("/var/run/docker.sock") ? "unix:///var/run/docker.sock" : undefined);
  if (!socket) return undefined;
  try {
    const { GenericContainer, getContainerRuntimeClient } = await import("testcontainers");
    await getContainerRuntimeClient();
    const started = await new GenericContainer("redis:7-alpine").withExposedPorts(6379).start();
    return {
      url: `redis://${started.getHost()}:${started.getMappedPort(6379)}`,
      stop: async () => {
        await started.stop();
      },
    };
  } catch {
    return undefined;
  }
}
