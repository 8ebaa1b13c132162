import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, runCli } from "./helpers/cli.js";
import { FIXTURE_SERVER } from "./helpers/mcp.js";
import { OPERATOR_KEY, type Stack, startStack } from "./helpers/stack.js";
import { waitFor } from "./helpers/wait.js";

/** `switchyard mcp` as a desktop client launches it: a stdio MCP server relaying to a running api. */
describe("switchyard mcp (stdio)", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      config: { agents: { mock: { type: "mock" }, fixture: { type: "mcp", command: "node", args: [FIXTURE_SERVER] } } },
    });
    await waitFor(async () => (await stack.operator.get("/api/v1/tools")).body.tools.some((t: { agent: string }) => t.agent === "fixture"));
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("lists and calls aggregated and orchestration tools, with progress", async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, "mcp"],
      env: { PATH: process.env.PATH ?? "", SWITCHYARD_URL: stack.url, SWITCHYARD_API_KEY: OPERATOR_KEY },
      stderr: "pipe",
    });
    const client = new Client({ name: "desktop", version: "1.0.0" });
    await client.connect(transport);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(
        expect.arrayContaining(["mock__echo", "fixture__echo", "fixture__slow", "list_agents", "submit_task", "get_task"]),
      );
      const echoed = await client.callTool({ name: "fixture__echo", arguments: { text: "from the desktop" } });
      expect(JSON.stringify(echoed.content)).toContain("from the desktop");
      const progress: number[] = [];
      const slow = await client.callTool({ name: "fixture__slow", arguments: { ms: 200, step_ms: 50 } }, undefined, {
        onprogress: (p) => progress.push(p.progress),
      });
      expect(slow.isError).toBeFalsy();
      expect(progress.length).toBeGreaterThan(0);
      const agents = await client.callTool({ name: "list_agents", arguments: {} });
      expect(JSON.stringify(agents.structuredContent)).toContain('"fixture"');
    } finally {
      await client.close();
    }
  });

  it("refuses to start without a URL or key", () => {
    const result = runCli(["mcp"], { env: { SWITCHYARD_API_KEY: "x" } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("SWITCHYARD_URL");
  });
});
