import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type CliProcess, descendantsOf, isAlive, spawnCli } from "./helpers/cli.js";
import { apiClient } from "./helpers/http.js";
import { EVERYTHING_SERVER, waitForTask } from "./helpers/stack.js";
import { waitFor } from "./helpers/wait.js";

/**
 * The README's promise, as a real OS process: `switchyard start` with no REDIS_URL embeds
 * redis-server, serves the mock and an MCP server's tools, runs tasks, and on Ctrl-C (SIGINT)
 * exits promptly leaving no child process behind.
 */
describe("switchyard start (all-in-one, embedded Redis)", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "sy-quickstart-"));
  let cli: CliProcess | undefined;

  afterAll(() => {
    if (cli && cli.child.exitCode === null) cli.child.kill("SIGKILL");
  });

  it("serves tools, runs a mock and an MCP task, and shuts down cleanly on SIGINT", async () => {
    const config = path.join(dir, "switchyard.yaml");
    writeFileSync(
      config,
      [
        `data_dir: ${path.join(dir, ".switchyard")}`,
        "agents:",
        "  mock:",
        "    type: mock",
        "  everything:",
        "    type: mcp",
        "    command: node",
        `    args: [${EVERYTHING_SERVER}, stdio]`,
      ].join("\n"),
    );
    cli = spawnCli(["start", "--config", config, "--port", "0"], { cwd: dir, env: { REDIS_URL: undefined } });
    const [, url] = await cli.waitFor(/API\s+(http:\/\/\S+)\/api\/v1/);
    const key = readFileSync(path.join(dir, ".switchyard/admin.key"), "utf8").trim();
    expect(cli.output()).toContain(key);
    expect(statSync(path.join(dir, ".switchyard/admin.key")).mode & 0o777).toBe(0o600);

    const api = apiClient(url as string, key);
    const tools = await api.get("/api/v1/tools");
    expect(tools.status).toBe(200);
    const names = tools.body.tools.map((t: { name: string }) => t.name);
    expect(names).toEqual(expect.arrayContaining(["mock.echo", "mock.sleep", "mock.fail", "everything.echo"]));

    const mockTask = await api.post("/api/v1/tasks", { agent_name: "mock", tool_name: "echo", arguments: { message: "hi" } });
    expect(mockTask.status).toBe(201);
    const mcpTask = await api.post("/api/v1/tasks", { agent_name: "everything", tool_name: "echo", arguments: { message: "over MCP" } });
    expect(mcpTask.status).toBe(201);
    const mockDone = await waitForTask(api, mockTask.body.task_id);
    expect(mockDone).toMatchObject({ status: "completed", result: { echo: { message: "hi" } }, attempts: 1 });
    const mcpDone = await waitForTask(api, mcpTask.body.task_id);
    expect(mcpDone.status).toBe("completed");
    expect(JSON.stringify(mcpDone.result.content)).toContain("over MCP");

    // Children: the embedded redis-server and the stdio MCP server.
    const pid = cli.child.pid as number;
    const children = descendantsOf(pid);
    expect(children.length).toBeGreaterThanOrEqual(2);

    const stopStarted = Date.now();
    // Ctrl-C under `npm start` delivers SIGINT twice (terminal group + npm forwarding it): one stop.
    cli.child.kill("SIGINT");
    cli.child.kill("SIGINT");
    const exit = await cli.exited;
    expect(Date.now() - stopStarted).toBeLessThan(10_000);
    expect(exit.code).toBe(0);
    await waitFor(() => children.every((child) => !isAlive(child)), { timeoutMs: 5_000, what: "children to exit" });

    // The AOF lives under the data dir; the pid file is gone after a clean stop.
    expect(existsSync(path.join(dir, ".switchyard/redis/appendonlydir"))).toBe(true);
    expect(existsSync(path.join(dir, ".switchyard/redis/switchyard-redis.pid"))).toBe(false);
  });
});
