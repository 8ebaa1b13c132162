import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCliAsync } from "./helpers/cli.js";
import { ADMIN_KEY, type Stack, startStack, VIEWER_KEY } from "./helpers/stack.js";

/** The client commands against a real api (in this process) over HTTP. */
describe("switchyard client commands against the api", () => {
  let stack: Stack;
  let env: Record<string, string>;
  const cli = (args: string[], extra: Record<string, string | undefined> = {}, cwd?: string) =>
    runCliAsync(args, { env: { ...env, ...extra }, ...(cwd ? { cwd } : {}) });

  beforeAll(async () => {
    stack = await startStack({ config: { agents: { mock: { type: "mock" } }, limits: { backoff_ms: 20 } } });
    env = { SWITCHYARD_URL: stack.url, SWITCHYARD_API_KEY: ADMIN_KEY };
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("agents ls and tools ls, as a table and as JSON", async () => {
    const table = await cli(["agents", "ls"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^NAME\s+TYPE\s+STATUS\s+WORKERS\s+TOOLS\nmock\s+mock\s+available\s+1\s+4\n$/);
    const agents = JSON.parse((await cli(["agents", "ls", "--json"])).stdout);
    expect(agents.agents).toEqual([expect.objectContaining({ name: "mock", status: "available" })]);

    const tools = await cli(["tools", "ls", "--agent", "mock", "--json"]);
    expect(tools.code).toBe(0);
    expect(
      JSON.parse(tools.stdout)
        .tools.map((t: { name: string }) => t.name)
        .sort(),
    ).toEqual(["mock.echo", "mock.fail", "mock.sleep", "mock.split"]);
    expect(JSON.parse((await cli(["tools", "ls", "--agent", "nobody", "--json"])).stdout).tools).toEqual([]);
    expect((await cli(["tools", "ls"])).stdout).toContain("mock.echo");
  });

  it("task submit prints the id; task get shows the task; --wait exits 1 when the task fails", async () => {
    const submitted = await cli(["task", "submit", "mock", "echo", "--args", '{"message":"from the cli"}', "--json"]);
    expect(submitted.code).toBe(0);
    const { task_id } = JSON.parse(submitted.stdout);
    expect(task_id).toMatch(/^tsk_/);

    const waited = await cli(["task", "submit", "mock", "echo", "--args", '{"message":"waited"}', "--wait", "--json"]);
    expect(waited.code).toBe(0);
    expect(JSON.parse(waited.stdout)).toMatchObject({ status: "completed", result: { echo: { message: "waited" } } });

    const got = await cli(["task", "get", task_id, "--json"]);
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({ task_id, agent_name: "mock", tool_name: "echo" });
    const human = await cli(["task", "get", task_id]);
    expect(human.stdout).toContain(`task     ${task_id}`);
    expect(human.stdout).toContain("tool     mock.echo");

    const failed = await cli(["task", "submit", "mock", "fail", "--args", '{"message":"nope"}', "--max-attempts", "1", "--wait"]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain("error    TOOL_ERROR: nope");
  });

  it("task watch follows a task to its end (event stream, or polling where the server has none)", async () => {
    const submitted = JSON.parse((await cli(["task", "submit", "mock", "sleep", "--args", '{"ms":300}', "--json"])).stdout);
    const watched = await cli(["task", "watch", submitted.task_id]);
    expect(watched.code).toBe(0);
    expect(watched.stdout).toMatch(/status\s+completed/);
  });

  it("exit codes: 2 bad usage, 3 refused by the api, 4 unreachable", async () => {
    const badArgs = await cli(["task", "submit", "mock", "echo", "--args", "{nope"]);
    expect(badArgs.code).toBe(2);
    expect(badArgs.stderr).toContain("--args: not valid JSON");

    const noKey = await cli(["agents", "ls"], { SWITCHYARD_API_KEY: undefined }, mkdtempSync(path.join(tmpdir(), "sy-nokey-")));
    expect(noKey.code).toBe(3);
    expect(noKey.stderr).toContain("UNAUTHORIZED");

    const viewer = await cli(["task", "submit", "mock", "echo"], { SWITCHYARD_API_KEY: VIEWER_KEY });
    expect(viewer.code).toBe(3);
    expect(viewer.stderr).toContain("FORBIDDEN");

    const unknown = await cli(["task", "get", "tsk_00000000000000000000000000"]);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain("TASK_NOT_FOUND");

    const down = await cli(["agents", "ls", "--json"], { SWITCHYARD_URL: "http://127.0.0.1:1" });
    expect(down.code).toBe(4);
    expect(down.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:1/);
  });

  it("uses ./.switchyard/admin.key when SWITCHYARD_API_KEY is unset", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sy-key-"));
    mkdirSync(path.join(dir, ".switchyard"));
    writeFileSync(path.join(dir, ".switchyard/admin.key"), `${ADMIN_KEY}\n`);
    const result = await cli(["agents", "ls", "--json"], { SWITCHYARD_API_KEY: undefined }, dir);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).agents[0].name).toBe("mock");
  });
});

/**
 * The streaming paths of `task watch` and `workflow run --watch`, against a local server that
 * speaks the documented routes and SSE wire format (the real routes come with the task-events
 * and workflow issues; this pins the client's side of the contract).
 */
describe("switchyard watch commands over SSE", () => {
  let server: Server;
  let url: string;
  let runPolls = 0;
  let quietPolls = 0;
  const requests: string[] = [];

  beforeAll(async () => {
    let taskDone = false;
    let runStage = 0;
    const steps = () => [
      { step_id: "fetch", status: runStage >= 1 ? "completed" : "running", attempts: 1, started_at: new Date().toISOString() },
      { step_id: "summarize", status: runStage >= 2 ? "completed" : runStage >= 1 ? "running" : "pending", attempts: 1 },
    ];
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.headers.authorization !== `Bearer ${ADMIN_KEY}`)
        return json(401, { error_code: "UNAUTHORIZED", message: "no", details: null });
      const sse = (events: Array<[string, unknown]>, after: () => void) => {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        res.write(": connected\n\n");
        let i = 0;
        const next = () => {
          const event = events[i++];
          if (!event) return;
          after();
          res.write(`event: ${event[0]}\ndata: ${JSON.stringify(event[1])}\n\n`);
          setTimeout(next, 20);
        };
        setTimeout(next, 20);
      };
      switch (`${req.method} ${req.url}`) {
        case "GET /api/v1/tasks/tsk_1":
          return json(200, {
            task_id: "tsk_1",
            agent_name: "mock",
            tool_name: "sleep",
            status: taskDone ? "completed" : "running",
            result: { slept_ms: 5 },
          });
        case "GET /api/v1/tasks/tsk_1/events":
          return sse(
            [
              ["progress", { type: "log", message: "halfway" }],
              ["completed", { status: "completed" }],
            ],
            () => {
              taskDone = true;
            },
          );
        case "GET /api/v1/tasks/tsk_quiet":
          // Completes a moment after the watch starts; its stream never says so.
          quietPolls++;
          return json(200, { task_id: "tsk_quiet", status: quietPolls > 1 ? "completed" : "running", result: null });
        case "GET /api/v1/tasks/tsk_quiet/events":
          res.writeHead(200, { "content-type": "text/event-stream" });
          res.write(": connected\n\n");
          return;
        case "POST /api/v1/workflows/digest/runs":
          return json(201, { run_id: "run_1", status: "running" });
        case "GET /api/v1/runs/run_1":
          runPolls++;
          return json(200, { run_id: "run_1", workflow: "digest", status: runStage >= 2 ? "completed" : "running", steps: steps() });
        case "GET /api/v1/runs/run_1/events":
          return sse(
            [
              ["step.completed", { step_id: "fetch" }],
              ["step.completed", { step_id: "summarize" }],
              ["run.completed", {}],
            ],
            () => {
              runStage++;
            },
          );
        default:
          return json(404, { error_code: "ROUTE_NOT_FOUND", message: "no route", details: null });
      }
    });
    server.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("task watch prints each event and the final task", async () => {
    const result = await runCliAsync(["task", "watch", "tsk_1"], { env: { SWITCHYARD_URL: url, SWITCHYARD_API_KEY: ADMIN_KEY } });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('progress {"type":"log","message":"halfway"}');
    expect(result.stdout).toMatch(/status\s+completed/);
  });

  it("task watch ends when the task is final even if its stream stays open and silent", async () => {
    const result = await runCliAsync(["task", "watch", "tsk_quiet", "--json"], {
      env: { SWITCHYARD_URL: url, SWITCHYARD_API_KEY: ADMIN_KEY },
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ task_id: "tsk_quiet", status: "completed" });
  });

  it("workflow run --watch shows each step's state change and exits 0 when the run completes", async () => {
    const result = await runCliAsync(["workflow", "run", "digest", "--input", '{"topic":"x"}', "--watch"], {
      env: { SWITCHYARD_URL: url, SWITCHYARD_API_KEY: ADMIN_KEY },
    });
    expect(result.code).toBe(0);
    // Not a terminal: one line per change, in order.
    const lines = result.stdout.trim().split("\n");
    expect(lines).toEqual(
      expect.arrayContaining([
        "run run_1 running",
        "step fetch running",
        "step fetch completed",
        "step summarize completed",
        "run run_1 completed",
      ]),
    );
    expect(lines.indexOf("step fetch completed")).toBeLessThan(lines.indexOf("step summarize completed"));
    expect(requests).toContain("GET /api/v1/runs/run_1/events");
    expect(runPolls).toBeGreaterThanOrEqual(2);

    const json = await runCliAsync(["runs", "watch", "run_1", "--json"], { env: { SWITCHYARD_URL: url, SWITCHYARD_API_KEY: ADMIN_KEY } });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout.trim().split("\n").at(-1) as string)).toMatchObject({ run_id: "run_1", status: "completed" });
  });
});
