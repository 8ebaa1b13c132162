import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { type ApiService, startApiService } from "@switchyard/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { descendantsOf } from "./helpers/cli.js";
import { connectMcp, FIXTURE_SERVER, type RemoteServer, startBearerProxy, startEverythingRemote } from "./helpers/mcp.js";
import { redisUrl } from "./helpers/redis.js";
import {
  ADMIN_KEY,
  EVERYTHING_SERVER,
  FILESYSTEM_SERVER,
  MEMORY_SERVER,
  OPERATOR_KEY,
  OTHER_TENANT_KEY,
  type Stack,
  startStack,
  VIEWER_KEY,
  waitForTask,
} from "./helpers/stack.js";
import { waitFor } from "./helpers/wait.js";

const AGENTS = ["everything", "files", "memory", "remote_http", "remote_sse", "fixture"] as const;
type Agent = (typeof AGENTS)[number];
const THIRD_PARTY_PACKAGES = ["server-everything", "server-filesystem", "server-memory"];

/**
 * Arguments that make each tool succeed. `round` keeps the REST and the /mcp pass from stepping on
 * each other (files they create, entities they add).
 */
function argumentsFor(agent: Agent, tool: string, dir: string, round: number): Record<string, unknown> {
  const file = (name: string) => path.join(dir, name);
  switch (agent) {
    case "everything":
    case "remote_http":
    case "remote_sse": {
      const table: Record<string, Record<string, unknown>> = {
        echo: { message: `hi ${round}` },
        "get-annotated-message": { messageType: "success" },
        "get-resource-links": { count: 2 },
        "get-resource-reference": { resourceType: "Text", resourceId: 1 },
        "get-structured-content": { location: "Chicago" },
        "get-sum": { a: 2, b: round },
        "gzip-file-as-resource": { name: `r${round}.gz`, data: "data:text/plain;base64,aGVsbG8gd29ybGQ=", outputType: "resource" },
        "trigger-long-running-operation": { duration: 0.1, steps: 2 },
        "simulate-research-query": { topic: "switchyard" },
      };
      return table[tool] ?? {};
    }
    case "files": {
      const table: Record<string, Record<string, unknown>> = {
        read_file: { path: file("seed.txt") },
        read_text_file: { path: file("seed.txt"), head: 1 },
        read_media_file: { path: file("seed.txt") },
        read_multiple_files: { paths: [file("seed.txt")] },
        write_file: { path: file(`written-${round}.txt`), content: "written" },
        edit_file: { path: file("seed.txt"), edits: [{ oldText: "seed", newText: "SEED" }], dryRun: true },
        create_directory: { path: file(`dir-${round}`) },
        list_directory: { path: dir },
        list_directory_with_sizes: { path: dir },
        directory_tree: { path: dir },
        move_file: { source: file(`move-${round}.txt`), destination: file(`moved-${round}.txt`) },
        search_files: { path: dir, pattern: "seed" },
        get_file_info: { path: file("seed.txt") },
      };
      return table[tool] ?? {};
    }
    case "memory": {
      const entity = `alice${round}`;
      const relation = { from: entity, to: entity, relationType: "knows" };
      const table: Record<string, Record<string, unknown>> = {
        create_entities: { entities: [{ name: entity, entityType: "person", observations: ["likes tea"] }] },
        create_relations: { relations: [relation] },
        add_observations: { observations: [{ entityName: entity, contents: ["plays chess"] }] },
        delete_observations: { deletions: [{ entityName: entity, observations: ["plays chess"] }] },
        delete_relations: { relations: [relation] },
        search_nodes: { query: entity },
        open_nodes: { names: [entity] },
        delete_entities: { entityNames: [`nobody${round}`] },
      };
      return table[tool] ?? {};
    }
    case "fixture": {
      const table: Record<string, Record<string, unknown>> = {
        echo: { text: `fixture ${round}` },
        slow: { ms: 20, step_ms: 10 },
        add_tool: { name: `added_${round}` },
      };
      return table[tool] ?? {};
    }
  }
}

/** Memory tools depend on each other: create before relate before delete. */
const MEMORY_ORDER = [
  "create_entities",
  "create_relations",
  "add_observations",
  "read_graph",
  "search_nodes",
  "open_nodes",
  "delete_observations",
  "delete_relations",
  "delete_entities",
];
const order = (agent: Agent, tools: string[]) =>
  agent === "memory" ? [...tools].sort((a, b) => MEMORY_ORDER.indexOf(a) - MEMORY_ORDER.indexOf(b)) : tools;

describe("five+ MCP servers at once, every tool through REST and /mcp", () => {
  let stack: Stack;
  let secondApi: ApiService;
  let dir: string;
  let remoteHttp: RemoteServer;
  let remoteSse: RemoteServer;
  let proxy: Awaited<ReturnType<typeof startBearerProxy>>;
  let sseProxy: Awaited<ReturnType<typeof startBearerProxy>>;
  const toolsByAgent = new Map<Agent, string[]>();

  beforeAll(async () => {
    dir = realpathSync(mkdtempSync(path.join(tmpdir(), "sy-mcp-")));
    mkdirSync(path.join(dir, "root"));
    const root = path.join(dir, "root");
    writeFileSync(path.join(root, "seed.txt"), "seed line\nsecond line\n");
    for (const round of [1, 2]) writeFileSync(path.join(root, `move-${round}.txt`), "to move");
    [remoteHttp, remoteSse] = await Promise.all([startEverythingRemote("streamableHttp"), startEverythingRemote("sse")]);
    proxy = await startBearerProxy(remoteHttp.url, "remote-secret-token-123");
    sseProxy = await startBearerProxy(remoteSse.url, "sse-secret-token-456");
    stack = await startStack({
      env: { REMOTE_TOKEN: "remote-secret-token-123", SSE_TOKEN: "sse-secret-token-456", MEMORY_FILE: path.join(dir, "memory.jsonl") },
      config: {
        agents: {
          everything: { type: "mcp", command: "node", args: [EVERYTHING_SERVER, "stdio"] },
          files: { type: "mcp", command: "node", args: [FILESYSTEM_SERVER, root] },
          memory: { type: "mcp", command: "node", args: [MEMORY_SERVER], env: { MEMORY_FILE_PATH: "${MEMORY_FILE}" } },
          remote_http: { type: "mcp", transport: "http", url: proxy.url, auth_token: "${REMOTE_TOKEN}" },
          remote_sse: { type: "mcp", transport: "sse", url: sseProxy.url, headers: { Authorization: "Bearer ${SSE_TOKEN}" } },
          fixture: { type: "mcp", command: "node", args: [FIXTURE_SERVER], tenants: ["acme"] },
        },
      },
    });
    secondApi = await startApiService({
      config: stack.config,
      redisUrl: redisUrl(),
      logger: stack.logger,
      keys: stack.config.auth.keys,
      host: "127.0.0.1",
      port: 0,
    });
    const { body } = await waitFor(
      async () => {
        const response = await stack.operator.get("/api/v1/tools");
        const agents = new Set(response.body.tools.map((t: { agent: string }) => t.agent));
        return AGENTS.every((a) => agents.has(a)) ? response : undefined;
      },
      { what: "all six agents in the catalog", timeoutMs: 30_000 },
    );
    for (const tool of body.tools as Array<{ agent: Agent; tool: string; name: string }>) {
      expect(tool.name).toBe(`${tool.agent}.${tool.tool}`);
      toolsByAgent.set(tool.agent, [...(toolsByAgent.get(tool.agent) ?? []), tool.tool]);
    }
  }, 60_000);

  afterAll(async () => {
    await secondApi?.close();
    await stack?.close();
    await Promise.all([remoteHttp?.close(), remoteSse?.close(), proxy?.close(), sseProxy?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("connects servers from three npm packages plus the project's own, over stdio, Streamable HTTP (with bearer) and SSE", () => {
    expect(THIRD_PARTY_PACKAGES.every((pkg) => [EVERYTHING_SERVER, FILESYSTEM_SERVER, MEMORY_SERVER].some((p) => p.includes(pkg)))).toBe(
      true,
    );
    expect(toolsByAgent.get("everything")).toEqual(expect.arrayContaining(["echo", "get-sum", "trigger-long-running-operation"]));
    expect(toolsByAgent.get("remote_http")?.sort()).toEqual(toolsByAgent.get("everything")?.sort());
    expect(toolsByAgent.get("remote_sse")?.sort()).toEqual(toolsByAgent.get("everything")?.sort());
    expect(toolsByAgent.get("files")).toEqual(expect.arrayContaining(["read_file", "write_file", "list_allowed_directories"]));
    expect(toolsByAgent.get("memory")).toEqual(expect.arrayContaining(["create_entities", "read_graph"]));
    expect(toolsByAgent.get("fixture")).toEqual(expect.arrayContaining(["echo", "slow", "stats"]));
    // The bearer token (auth_token) and the header came from ${ENV} and reached the servers: the
    // proxies in front of them refuse anything else, the SSE stream's GET included.
    expect(proxy.seen()).toBeGreaterThan(0);
    expect(sseProxy.seen()).toBeGreaterThan(1);
    expect(stack.logs.text()).not.toContain("remote-secret-token-123");
    expect(stack.logs.text()).not.toContain("sse-secret-token-456");
  });

  it("every tool of every server completes through POST /api/v1/tasks", async () => {
    const failures: string[] = [];
    let calls = 0;
    // Agents in parallel (one server's slow tool does not hold up the others), tools in order.
    await Promise.all(
      AGENTS.map(async (agent) => {
        for (const tool of order(agent, toolsByAgent.get(agent) ?? [])) {
          const created = await stack.operator.post("/api/v1/tasks", {
            agent_name: agent,
            tool_name: tool,
            arguments: argumentsFor(agent, tool, path.join(dir, "root"), 1),
          });
          expect(created.status, `${agent}.${tool}: ${JSON.stringify(created.body)}`).toBe(201);
          const task = await waitForTask(stack.operator, created.body.task_id, 20_000);
          calls++;
          if (task.status !== "completed") failures.push(`${agent}.${tool}: ${task.status} ${JSON.stringify(task.error)}`);
          else expect(task.result?.content, `${agent}.${tool}: ${JSON.stringify(task.result)}`).toBeInstanceOf(Array);
        }
      }),
    );
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThanOrEqual(50);
  });

  it("resources and prompts are listed through the API", async () => {
    const resources = await stack.viewer.get("/api/v1/resources");
    expect(resources.body.resources).toEqual(
      expect.arrayContaining([expect.objectContaining({ agent: "fixture", uri: "fixture://readme", name: "readme" })]),
    );
    expect(resources.body.resources.some((r: { agent: string }) => r.agent === "everything")).toBe(true);
    const prompts = await stack.viewer.get("/api/v1/prompts");
    expect(prompts.body.prompts).toEqual(expect.arrayContaining([expect.objectContaining({ agent: "fixture", name: "greet" })]));
  });

  it("/mcp (official SDK client, requests spread over two api replicas): lists and calls every aggregated tool", async () => {
    const hits = new Map<string, number>();
    const client = await connectMcp([stack.url, secondApi.url], OPERATOR_KEY, hits);
    try {
      expect(client.getServerVersion()?.name).toBe("switchyard");
      const { tools } = await client.listTools();
      const names = new Set(tools.map((t) => t.name));
      for (const orchestration of ["list_agents", "submit_task", "get_task"]) expect(names).toContain(orchestration);
      const failures: string[] = [];
      await Promise.all(
        AGENTS.map(async (agent) => {
          for (const tool of order(agent, toolsByAgent.get(agent) ?? [])) {
            const name = `${agent}__${tool}`;
            expect(names, name).toContain(name);
            const result = await callTool(client, name, argumentsFor(agent, tool, path.join(dir, "root"), 2));
            if (result.isError) failures.push(`${name}: ${JSON.stringify(result.content)}`);
            else expect(result._meta?.["switchyard/task_id"], name).toMatch(/^tsk_/);
          }
        }),
      );
      expect(failures).toEqual([]);
      // Both replicas answered requests of the same client session: nothing sticky.
      expect(hits.get(stack.url)).toBeGreaterThan(5);
      expect(hits.get(secondApi.url)).toBeGreaterThan(5);
    } finally {
      await client.close();
    }
  });

  it("/mcp: an aggregated tool returns the server's own content; orchestration tools work", async () => {
    const client = await connectMcp([secondApi.url], OPERATOR_KEY);
    try {
      const sum = await callTool(client, "everything__get-sum", { a: 20, b: 22 });
      expect(JSON.stringify(sum.content)).toContain("42");
      const structured = await callTool(client, "remote_sse__get-structured-content", { location: "Chicago" });
      expect(structured.structuredContent).toBeDefined();

      const agents = await callTool(client, "list_agents", {});
      const listed = (agents.structuredContent as { agents: Array<{ name: string; status: string }> }).agents;
      expect(listed.map((a) => a.name).sort()).toEqual([...AGENTS].sort());
      expect(listed.every((a) => a.status === "available")).toBe(true);

      const submitted = await callTool(client, "submit_task", {
        agent_name: "fixture",
        tool_name: "echo",
        arguments: { text: "via submit_task" },
        wait: true,
      });
      const task = submitted.structuredContent as { task_id: string; status: string; result: unknown };
      expect(task.status).toBe("completed");
      expect(JSON.stringify(task.result)).toContain("via submit_task");

      const queued = await callTool(client, "submit_task", { agent_name: "fixture", tool_name: "slow", arguments: { ms: 10 } });
      const id = (queued.structuredContent as { task_id: string }).task_id;
      const fetched = await waitFor(async () => {
        const read = await callTool(client, "get_task", { task_id: id });
        const view = read.structuredContent as { status: string };
        return view.status === "completed" ? view : undefined;
      });
      expect(fetched).toMatchObject({ task_id: id, tool_name: "slow" });

      const bad = await callTool(client, "submit_task", { agent_name: "fixture", tool_name: "echo", arguments: { text: 5 } });
      expect(bad.isError).toBe(true);
      expect(bad.structuredContent).toMatchObject({ error_code: "VALIDATION_FAILED" });
    } finally {
      await client.close();
    }
  });

  it("/mcp reports task progress to the client", async () => {
    const client = await connectMcp([stack.url], OPERATOR_KEY);
    try {
      const progress: number[] = [];
      const result = await client.callTool({ name: "fixture__slow", arguments: { ms: 300, step_ms: 50 } }, undefined, {
        onprogress: (p) => progress.push(p.progress),
      });
      expect(result.isError).toBeFalsy();
      expect(progress.length).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });

  it("/mcp applies bearer auth, roles and tenants", async () => {
    const unauthenticated = await fetch(`${stack.url}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(unauthenticated.status).toBe(401);
    expect(await unauthenticated.json()).toMatchObject({ error_code: "UNAUTHORIZED" });
    const get = await fetch(`${stack.url}/mcp`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(get.status).toBe(405);

    const viewer = await connectMcp([stack.url], VIEWER_KEY);
    try {
      const names = (await viewer.listTools()).tools.map((t) => t.name);
      expect(names).toContain("list_agents");
      expect(names).not.toContain("submit_task");
      const refused = await callTool(viewer, "fixture__echo", { text: "no" });
      expect(refused.structuredContent).toMatchObject({ error_code: "FORBIDDEN" });
    } finally {
      await viewer.close();
    }
    // `fixture` is limited to tenant acme: another tenant neither sees nor calls it.
    const other = await connectMcp([stack.url], OTHER_TENANT_KEY);
    try {
      const names = (await other.listTools()).tools.map((t) => t.name);
      expect(names).toContain("everything__echo");
      expect(names.some((n) => n.startsWith("fixture__"))).toBe(false);
      await expect(other.callTool({ name: "fixture__echo", arguments: { text: "x" } })).rejects.toThrow(/unknown tool/);
    } finally {
      await other.close();
    }
  });

  it("stdio children are the worker's descendants while it runs", () => {
    const children = descendantsOf(process.pid);
    for (const agent of ["everything", "files", "memory", "fixture"]) {
      const client = stack.worker?.clients.get(agent) as unknown as { client: { pid?: number } };
      expect(children).toContain(client.client.pid);
    }
  });
});

async function callTool(client: Client, name: string, args: Record<string, unknown>) {
  return (await client.callTool({ name, arguments: args }, undefined, { timeout: 30_000 })) as {
    isError?: boolean;
    content: unknown[];
    structuredContent?: unknown;
    _meta?: Record<string, unknown>;
  };
}
