// PENDING until issue 3 (task cancel) and issue 6 (workflows and runs API) are merged: rename to
// test/cli-workflow.test.ts to enable. The client commands against the real routes:
// `workflow apply`, `workflow run --watch`, `runs ls`, `task cancel`.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCliAsync } from "./helpers/cli.js";
import { ADMIN_KEY, type Stack, startStack } from "./helpers/stack.js";

describe("switchyard workflow / runs / task cancel against the real api", () => {
  let stack: Stack;
  let env: Record<string, string>;
  const cli = (args: string[]) => runCliAsync(args, { env });

  beforeAll(async () => {
    stack = await startStack({ config: { agents: { mock: { type: "mock" } } } });
    env = { SWITCHYARD_URL: stack.url, SWITCHYARD_API_KEY: ADMIN_KEY };
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("workflow apply, workflow run --watch (exit 0, each step's progress), runs ls", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "sy-wf-")), "wf.yaml");
    writeFileSync(
      file,
      [
        "name: cli-test",
        "steps:",
        "  - step_id: first",
        "    tool: mock.sleep",
        "    arguments: { ms: 300 }",
        "  - step_id: second",
        "    tool: mock.echo",
        "    arguments: { message: done }",
        "    depends_on: [first]",
      ].join("\n"),
    );
    const applied = await cli(["workflow", "apply", file]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/^workflow cli-test v1 applied/);

    const watched = await cli(["workflow", "run", "cli-test", "--input", "{}", "--watch"]);
    expect(watched.code).toBe(0);
    const lines = watched.stdout.trim().split("\n");
    expect(lines).toEqual(expect.arrayContaining(["step first completed", "step second completed"]));
    expect(lines.at(-1)).toMatch(/^run run_\S+ completed$/);

    const listed = JSON.parse((await cli(["runs", "ls", "--workflow", "cli-test", "--json"])).stdout);
    expect(listed.runs).toEqual([expect.objectContaining({ workflow: "cli-test", status: "completed" })]);
  });

  it("workflow run --watch exits 1 when the run fails", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "sy-wf-")), "wf.json");
    writeFileSync(file, JSON.stringify({ name: "cli-fail", steps: [{ step_id: "boom", tool: "mock.fail", arguments: { message: "x" } }] }));
    expect((await cli(["workflow", "apply", file])).code).toBe(0);
    expect((await cli(["workflow", "run", "cli-fail", "--watch"])).code).toBe(1);
  });

  it("task cancel stops a running task; watch then exits 1", async () => {
    const submitted = JSON.parse((await cli(["task", "submit", "mock", "sleep", "--args", '{"ms":60000}', "--json"])).stdout);
    const cancelled = await cli(["task", "cancel", submitted.task_id]);
    expect(cancelled.code).toBe(0);
    const watched = await cli(["task", "watch", submitted.task_id, "--json"]);
    expect(watched.code).toBe(1);
    expect(JSON.parse(watched.stdout.trim().split("\n").at(-1) as string).status).toBe("cancelled");
  });
});
