import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { AgentConfig } from "@switchyard/config";
import { AgentRegistry, CatalogStore, Keys } from "@switchyard/store";
import { startWorkerService, type WorkerService } from "@switchyard/worker";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type CliProcess, descendantsOf, isAlive, spawnCli } from "./helpers/cli.js";
import { connectMcp, FIXTURE_SERVER } from "./helpers/mcp.js";
import { connect, redisUrl, uniquePrefix } from "./helpers/redis.js";
import { ADMIN_KEY, EVERYTHING_SERVER, MEMORY_SERVER, OPERATOR_KEY, ROOT, type Stack, startStack, waitForTask } from "./helpers/stack.js";
import { waitFor } from "./helpers/wait.js";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "sy-mcp-life-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("stdio MCP servers under a real worker process", () => {
  let stack: Stack | undefined;
  let worker: CliProcess | undefined;
  afterEach(async () => {
    if (worker && worker.child.exitCode === null) worker.child.kill("SIGKILL");
    await stack?.close();
  });

  it("killing a server mid-call: the task retries and succeeds on the restarted server; no orphans after shutdown", async () => {
    const dir = tempDir();
    const agents = {
      fixture: { type: "mcp", command: "node", args: [FIXTURE_SERVER, "--faults"] },
      everything: { type: "mcp", command: "node", args: [EVERYTHING_SERVER, "stdio"] },
      memory: { type: "mcp", command: "node", args: [MEMORY_SERVER], env: { MEMORY_FILE_PATH: path.join(dir, "memory.jsonl") } },
    };
    stack = await startStack({ worker: false, coordinator: false, config: { limits: { backoff_ms: 50 }, agents } });
    const file = path.join(dir, "switchyard.yaml");
    writeFileSync(file, JSON.stringify({ redis: { prefix: stack.prefix }, limits: { backoff_ms: 50 }, agents }));
    worker = spawnCli(["worker", "--config", file], { env: { REDIS_URL: redisUrl() } });
    await worker.waitFor(/worker ready/);
    await waitFor(async () => {
      const agentsLive = new Set((await stack?.operator.get("/api/v1/tools"))?.body.tools.map((t: { agent: string }) => t.agent));
      return ["fixture", "everything", "memory"].every((a) => agentsLive.has(a));
    });

    const marker = path.join(dir, "blocked");
    const created = await stack.operator.post("/api/v1/tasks", {
      agent_name: "fixture",
      tool_name: "block_once",
      arguments: { marker },
      max_attempts: 3,
    });
    expect(created.status).toBe(201);
    await waitFor(() => existsSync(marker) && readFileSync(marker, "utf8").length > 0, { what: "the call to reach the server" });
    const serverPid = Number(readFileSync(marker, "utf8"));
    const workerPid = worker.child.pid as number;
    expect(descendantsOf(workerPid)).toContain(serverPid);
    process.kill(serverPid, "SIGKILL");

    const task = await waitForTask(stack.operator, created.body.task_id, 20_000);
    expect(task).toMatchObject({ status: "completed", attempts: 2 });
    const answeredBy = Number(/answered by (\d+)/.exec(JSON.stringify(task.result))?.[1]);
    expect(answeredBy).not.toBe(serverPid);
    expect(descendantsOf(workerPid)).toContain(answeredBy);
    expect(isAlive(serverPid)).toBe(false);

    const children = descendantsOf(workerPid);
    expect(children.length).toBeGreaterThanOrEqual(3);
    worker.child.kill("SIGTERM");
    expect((await worker.exited).code).toBe(0);
    await waitFor(() => children.every((child) => !isAlive(child)), { what: "every child to exit", timeoutMs: 10_000 });
  }, 60_000);
});

describe("hot add/remove of MCP agents on two running workers", () => {
  const redis = connect();
  const workers: WorkerService[] = [];
  let stack: Stack | undefined;
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await stack?.close();
    redis.disconnect();
  });

  it("registry and config-file changes reach GET /api/v1/tools and both workers within seconds, without restarts", async () => {
    const dir = tempDir();
    const file = path.join(dir, "switchyard.yaml");
    const prefix = uniquePrefix();
    const writeConfig = (agents: Record<string, unknown>) =>
      writeFileSync(file, JSON.stringify({ redis: { prefix }, auth: { keys: [{ key: ADMIN_KEY, role: "admin" }] }, agents }));
    const fixture = { type: "mcp", command: "node", args: [FIXTURE_SERVER] };
    writeConfig({ mock: { type: "mock" } });
    // The api watches the file too (as `switchyard api --config` does).
    stack = await startStack({
      worker: false,
      coordinator: false,
      config: { redis: { prefix }, agents: { mock: { type: "mock" } } },
      apiOptions: { configFile: file },
    });
    for (const id of ["w1", "w2"]) {
      workers.push(
        await startWorkerService({
          config: stack.config,
          baseDir: ROOT,
          redisUrl: redisUrl(),
          logger: stack.logger,
          workerId: id,
          heartbeatMs: 500,
          configFile: file,
          env: {},
        }),
      );
    }
    const catalog = new CatalogStore(redis, new Keys(prefix));
    const toolAgents = async () =>
      new Set<string>(((await stack?.operator.get("/api/v1/tools"))?.body.tools ?? []).map((t: { agent: string }) => t.agent));
    const servedByBoth = async (agent: string) =>
      workers.every((w) => w.servedAgents().includes(agent)) && (await catalog.readLive()).get(agent)?.workers === 2;

    // 1. Edit the watched config file: a new stdio MCP agent appears on both workers.
    const mockPidsBefore = workers.map((w) => w.workerId);
    let started = Date.now();
    writeConfig({ mock: { type: "mock" }, files_cfg: fixture });
    await waitFor(async () => (await toolAgents()).has("files_cfg") && (await servedByBoth("files_cfg")), {
      what: "files_cfg on both workers",
    });
    const addedFromFileMs = Date.now() - started;
    expect(stack.config.agents.files_cfg).toMatchObject({ type: "mcp" });
    const pidsOfFileAgent = workers.map((w) => (w.clients.get("files_cfg") as unknown as { client: { pid: number } }).client.pid);
    const call = await stack.operator.post("/api/v1/tasks", { agent_name: "files_cfg", tool_name: "echo", arguments: { text: "hot" } });
    expect((await waitForTask(stack.operator, call.body.task_id)).status).toBe("completed");

    // 2. Register an agent in Redis (what POST /api/v1/agents does): both workers pick it up.
    const registry = new AgentRegistry(redis, new Keys(prefix));
    started = Date.now();
    expect(
      await registry.add({
        name: "runtime",
        config: AgentConfig.parse({ type: "mcp", transport: "stdio", command: "node", args: [EVERYTHING_SERVER, "stdio"] }),
        created_at: Date.now(),
        created_by: "test",
        tenant: "acme",
      }),
    ).toBe(true);
    await waitFor(async () => (await toolAgents()).has("runtime") && (await servedByBoth("runtime")), { what: "runtime on both" });
    const addedFromRegistryMs = Date.now() - started;
    const viaRuntime = await stack.operator.post("/api/v1/tasks", {
      agent_name: "runtime",
      tool_name: "get-sum",
      arguments: { a: 1, b: 2 },
    });
    expect((await waitForTask(stack.operator, viaRuntime.body.task_id)).status).toBe("completed");
    // Adding an agent did not restart the others.
    expect(workers.map((w) => (w.clients.get("files_cfg") as unknown as { client: { pid: number } }).client.pid)).toEqual(pidsOfFileAgent);

    // 3. Remove both: gone from the catalog and from both workers; their children exit.
    const runtimePids = workers.map((w) => (w.clients.get("runtime") as unknown as { client: { pid: number } }).client.pid);
    started = Date.now();
    expect(await registry.remove("runtime")).toBe(true);
    writeConfig({ mock: { type: "mock" } });
    await waitFor(
      async () => {
        const agents = await toolAgents();
        return !agents.has("runtime") && !agents.has("files_cfg") && agents.has("mock");
      },
      { what: "both agents gone from GET /api/v1/tools" },
    );
    const removedMs = Date.now() - started;
    await waitFor(() => workers.every((w) => !w.servedAgents().includes("runtime") && !w.servedAgents().includes("files_cfg")));
    await waitFor(() => [...runtimePids, ...pidsOfFileAgent].every((pid) => !isAlive(pid)), { what: "removed servers' children exit" });
    const gone = await stack.operator.post("/api/v1/tasks", { agent_name: "runtime", tool_name: "get-sum", arguments: { a: 1, b: 2 } });
    expect(gone.body.error_code).toBe("AGENT_NOT_FOUND");

    // Same worker processes throughout: nothing restarted.
    expect(workers.map((w) => w.workerId)).toEqual(mockPidsBefore);
    expect(workers.every((w) => w.servedAgents().includes("mock"))).toBe(true);
    for (const ms of [addedFromFileMs, addedFromRegistryMs, removedMs]) expect(ms).toBeLessThan(10_000);
  }, 60_000);

  it("a namespace renames the tools; a registered agent whose prefix is taken is refused", async () => {
    const own = await startStack({ coordinator: false, config: { agents: { mock: { type: "mock" } } } });
    try {
      const registry = new AgentRegistry(redis, new Keys(own.prefix));
      const register = (name: string, namespace: string) =>
        registry.add({
          name,
          config: AgentConfig.parse({ type: "mcp", transport: "stdio", command: "node", args: [FIXTURE_SERVER], namespace }),
          created_at: Date.now(),
          created_by: "test",
          tenant: "acme",
        });
      await register("renamed", "tools-x");
      const names = await waitFor(async () => {
        const tools: Array<{ name: string; agent: string }> = (await own.operator.get("/api/v1/tools")).body.tools;
        const mine = tools.filter((t) => t.agent === "renamed").map((t) => t.name);
        return mine.length > 0 ? mine : undefined;
      });
      expect(names).toContain("tools-x.echo");
      expect(names.every((n) => n.startsWith("tools-x."))).toBe(true);
      const mcp = await connectMcp([own.url], OPERATOR_KEY);
      try {
        const result = await mcp.callTool({ name: "tools-x__echo", arguments: { text: "namespaced" } });
        expect(JSON.stringify(result.content)).toContain("namespaced");
      } finally {
        await mcp.close();
      }

      await register("clash", "mock");
      await waitFor(() => own.logs.text().includes("its tool prefix is taken"), { what: "the clash to be refused" });
      expect(own.worker?.servedAgents()).not.toContain("clash");
    } finally {
      await own.close();
    }
  });

  it("a server slow to initialize does not hold up the next agent change", async () => {
    const own = await startStack({ worker: false, coordinator: false });
    const w = await startWorkerService({
      config: own.config,
      baseDir: ROOT,
      redisUrl: redisUrl(),
      logger: own.logger,
      heartbeatMs: 500,
      agentStartWaitMs: 200,
    });
    try {
      const registry = new AgentRegistry(redis, new Keys(own.prefix));
      const register = (name: string, args: string[]) =>
        registry.add({
          name,
          config: AgentConfig.parse({ type: "mcp", transport: "stdio", command: "node", args: [FIXTURE_SERVER, ...args] }),
          created_at: Date.now(),
          created_by: "test",
          tenant: "acme",
        });
      await register("slowpoke", ["--slow-start", "20000"]);
      await waitFor(() => w.clients.has("slowpoke"), { what: "slowpoke to be starting" });
      await register("quick", []);
      await waitFor(() => w.servedAgents().includes("quick"), { what: "quick served while slowpoke still starts", timeoutMs: 8_000 });
      expect(w.servedAgents()).not.toContain("slowpoke");
      const slowPid = (w.clients.get("slowpoke") as unknown as { client: { pid?: number } }).client.pid as number;
      expect(isAlive(slowPid)).toBe(true);
      await w.close();
      // Closing stops a server that is still initializing too.
      await waitFor(() => !isAlive(slowPid), { what: "the initializing server to be stopped", timeoutMs: 10_000 });
    } finally {
      await w.close();
      await own.close();
    }
  });

  it("an invalid config edit keeps the running agents", async () => {
    const dir = tempDir();
    const own = await startStack({ worker: false, coordinator: false });
    try {
      const file = path.join(dir, "switchyard.yaml");
      writeFileSync(file, JSON.stringify({ redis: { prefix: own.prefix }, agents: { mock: { type: "mock" } } }));
      const w = await startWorkerService({
        config: own.config,
        baseDir: ROOT,
        redisUrl: redisUrl(),
        logger: own.logger,
        heartbeatMs: 500,
        configFile: file,
        env: {},
      });
      try {
        writeFileSync(file, "agents: { mock: { type: nonsense } }");
        await waitFor(() => own.logs.text().includes("config file changed but is invalid"), { what: "the invalid edit to be seen" });
        expect(w.servedAgents()).toEqual(["mock"]);
      } finally {
        await w.close();
      }
    } finally {
      await own.close();
    }
  });
});
