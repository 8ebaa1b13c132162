import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { descendantsOf } from "./helpers/cli.js";
import { metricValue, scrape } from "./helpers/metrics.js";
import { EVERYTHING_SERVER, type Stack, startStack } from "./helpers/stack.js";
import { waitFor } from "./helpers/wait.js";

/** The worker's /readyz names unconnected MCP servers; restarts of MCP servers are counted. */
describe("worker health and MCP restarts", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      workerOps: true,
      config: {
        agents: {
          everything: { type: "mcp", command: "node", args: [EVERYTHING_SERVER, "stdio"] },
          broken: { type: "mcp", command: "node", args: ["-e", "process.exit(3)"] },
        },
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("/readyz is 503 and says which MCP server is not connected", async () => {
    const ready = await fetch(`${stack.worker?.opsUrl}/readyz`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { checks: Record<string, string> };
    expect(body).toMatchObject({ status: "not_ready", checks: { redis: "ok", "agent:everything": "ok" } });
    expect(body.checks["agent:broken"]).toMatch(/^down: /);
    const { samples } = await scrape(stack.worker?.opsUrl as string);
    expect(metricValue(samples, "switchyard_agent_up", { agent: "broken" })).toBe(0);
    expect(metricValue(samples, "switchyard_agent_up", { agent: "everything" })).toBe(1);
  });

  it("a killed stdio MCP server is restarted and counted", async () => {
    // This test file's own worker process is the parent of the stdio MCP server.
    const servers = descendantsOf(process.pid).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("server-everything");
      } catch {
        return false;
      }
    });
    expect(servers).toHaveLength(1);
    process.kill(servers[0] as number, "SIGKILL");
    const { samples } = await waitFor(
      async () => {
        const result = await scrape(stack.worker?.opsUrl as string);
        return metricValue(result.samples, "switchyard_mcp_server_restarts_total", { agent: "everything" }) === 1 ? result : undefined;
      },
      { what: "one MCP restart on /metrics" },
    );
    expect(metricValue(samples, "switchyard_agent_up", { agent: "everything" })).toBe(1);
  });
});
