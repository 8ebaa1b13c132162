import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EVERYTHING_SERVER, FILESYSTEM_SERVER, ROOT, type Stack, startStack } from "./helpers/stack.js";
import { startRun, stepOf, waitForRun, waitForStep } from "./helpers/workflows.js";

/**
 * The runnable patterns in examples/workflows, loaded through `workflows_dir` the way a user
 * would, on the mock agent and real MCP servers (the reference server and the filesystem one).
 */
describe("examples/workflows", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      config: {
        workflows_dir: path.join(ROOT, "examples/workflows"),
        agents: {
          mock: { type: "mock" },
          everything: { type: "mcp", command: "node", args: [EVERYTHING_SERVER, "stdio"] },
          fs: { type: "mcp", command: "node", args: [FILESYSTEM_SERVER, path.join(ROOT, "examples/sandbox")] },
        },
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("loads every example from workflows_dir", async () => {
    const { body } = await stack.viewer.get("/api/v1/workflows");
    expect(body.workflows.map((w: { name: string }) => w.name).sort()).toEqual([
      "approval",
      "assembly-line",
      "hierarchical",
      "hierarchical-team",
      "hub-and-spoke",
    ]);
  });

  it("assembly line: file → MCP transform → package", async () => {
    const run = await waitForRun(
      stack.operator,
      await startRun(stack.operator, "assembly-line", { file: path.join(ROOT, "examples/sandbox/hello.txt") }),
    );
    expect(run.status, JSON.stringify(run)).toBe("completed");
    expect(run.output.result.text).toContain("HELLO FROM THE SWITCHYARD SANDBOX");
  });

  it("assembly line with no input, as the README runs it: reads hello.txt of the sandbox", async () => {
    const run = await waitForRun(stack.operator, await startRun(stack.operator, "assembly-line", {}));
    expect(run.status, JSON.stringify(run)).toBe("completed");
    expect(run.output.result.text).toContain("HELLO FROM THE SWITCHYARD SANDBOX");
  });

  it("hub and spoke: decompose → parallel MCP calls → merge", async () => {
    const run = await waitForRun(stack.operator, await startRun(stack.operator, "hub-and-spoke", { topics: "red, green, blue" }));
    expect(run.status, JSON.stringify(run)).toBe("completed");
    expect(stepOf(run, "report").output.echo.sections).toEqual(["part-1", "part-2", "part-3"]);
    expect(stepOf(run, "report").output.echo.texts.join(" ")).toMatch(/red.*green.*blue/);
  });

  it("hierarchical: one sub-workflow per team", async () => {
    const run = await waitForRun(stack.operator, await startRun(stack.operator, "hierarchical", { teams: ["ops", "web"], task: "launch" }));
    expect(run.status, JSON.stringify(run)).toBe("completed");
    const results = stepOf(run, "summary").output.echo.results;
    expect(results).toHaveLength(2);
    expect(results[0]).toContain("ops did launch");
    expect(results[1]).toContain("web did launch");
  });

  it("approval: waits for the API, then publishes", async () => {
    const runId = await startRun(stack.operator, "approval", { version: "v2" });
    await waitForStep(stack.operator, runId, "review", "waiting");
    await stack.operator.post(`/api/v1/runs/${runId}/steps/review/complete`, { output: { approved: true, note: "ship" } });
    const run = await waitForRun(stack.operator, runId);
    expect(run.status).toBe("completed");
    expect(stepOf(run, "publish").output.echo).toMatchObject({ approved_note: "ship" });
    expect(stepOf(run, "publish").output.echo.notes).toContain("Release notes for v2");
  });
});
