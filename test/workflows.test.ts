import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectMcp } from "./helpers/mcp.js";
import { connect } from "./helpers/redis.js";
import { OPERATOR_KEY, type Stack, startStack } from "./helpers/stack.js";
import { define, startRun, stepOf, waitForRun, waitForStep } from "./helpers/workflows.js";

describe("workflow engine", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      config: {
        agents: { mock: { type: "mock", concurrency: 20, capabilities: ["demo"] } },
        limits: { backoff_ms: 10 },
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("runs a diamond DAG: parallel branches fan in, outputs flow through templates", async () => {
    await define(stack.operator, {
      name: "diamond",
      steps: [
        { step_id: "a", tool: "mock.echo", arguments: { n: "{{ input.n }}" } },
        { step_id: "b", depends_on: ["a"], tool: "mock.echo", arguments: { n: "{{ steps.a.output.echo.n * 2 }}" } },
        { step_id: "c", depends_on: ["a"], tool: "mock.echo", arguments: { n: "{{ steps.a.output.echo.n + 1 }}" } },
        {
          step_id: "d",
          depends_on: ["b", "c"],
          tool: "mock.echo",
          arguments: { sum: "{{ steps.b.output.echo.n + steps.c.output.echo.n }}", text: "b={{ steps.b.output.echo.n }}" },
        },
      ],
    });
    const runId = await startRun(stack.operator, "diamond", { n: 5 });
    const run = await waitForRun(stack.operator, runId);
    expect(run.status).toBe("completed");
    expect(stepOf(run, "d").output).toEqual({ echo: { sum: 16, text: "b=10" } });
    expect(run.output).toEqual({ d: { echo: { sum: 16, text: "b=10" } } });
    // d started only after both b and c finished.
    const d = Date.parse(stepOf(run, "d").started_at);
    expect(d).toBeGreaterThanOrEqual(Date.parse(stepOf(run, "b").finished_at));
    expect(d).toBeGreaterThanOrEqual(Date.parse(stepOf(run, "c").finished_at));
    for (const step of run.steps) expect(step.attempts).toBe(1);
  });

  it("fans out foreach over 100 items with at most 10 running at once", async () => {
    await define(stack.operator, {
      name: "fanout",
      steps: [
        { step_id: "list", tool: "mock.echo", arguments: { items: "{{ [1..100] }}" } },
        {
          step_id: "each",
          depends_on: ["list"],
          foreach: { items: "{{ steps.list.output.echo.items }}", concurrency: 10 },
          tool: "mock.sleep",
          arguments: { ms: "{{ item % 3 * 5 }}" },
        },
        { step_id: "count", depends_on: ["each"], tool: "mock.echo", arguments: { n: "{{ $count(steps.each.output) }}" } },
      ],
    });
    const runId = await startRun(stack.operator, "fanout");
    // Watch the live run: never more than 10 items running.
    let maxRunning = 0;
    for (;;) {
      const { body } = await stack.operator.get(`/api/v1/runs/${runId}`);
      const each = stepOf(body, "each");
      maxRunning = Math.max(maxRunning, each.items?.running ?? 0);
      if (["completed", "failed", "cancelled"].includes(body.status)) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const run = await waitForRun(stack.operator, runId);
    expect(run.status).toBe("completed");
    expect(stepOf(run, "each").items).toMatchObject({ total: 100, completed: 100 });
    expect(stepOf(run, "count").output).toEqual({ echo: { n: 100 } });
    expect(maxRunning).toBeGreaterThan(0);
    expect(maxRunning).toBeLessThanOrEqual(10);
  });

  it("skips a branch whose condition is false, and what depends only on it", async () => {
    await define(stack.operator, {
      name: "branches",
      steps: [
        { step_id: "start", tool: "mock.echo", arguments: { kind: "{{ input.kind }}" } },
        {
          step_id: "big",
          depends_on: ["start"],
          when: "{{ steps.start.output.echo.kind = 'big' }}",
          tool: "mock.echo",
          arguments: { b: 1 },
        },
        { step_id: "big2", depends_on: ["big"], tool: "mock.echo", arguments: { b: 2 } },
        { step_id: "small", depends_on: ["start"], when: "steps.start.output.echo.kind = 'small'", tool: "mock.echo", arguments: { s: 1 } },
        { step_id: "join", depends_on: ["big2", "small"], tool: "mock.echo", arguments: { from: "{{ steps.small.output.echo.s }}" } },
      ],
    });
    const run = await waitForRun(stack.operator, await startRun(stack.operator, "branches", { kind: "small" }));
    expect(run.status).toBe("completed");
    expect(stepOf(run, "big")).toMatchObject({ status: "skipped", skipped_reason: "condition is false" });
    expect(stepOf(run, "big2").status).toBe("skipped");
    expect(stepOf(run, "small").status).toBe("completed");
    expect(stepOf(run, "join").output).toEqual({ echo: { from: 1 } });
  });

  it("retries a failing step by its policy, then succeeds", async () => {
    await define(stack.operator, {
      name: "retry",
      steps: [{ step_id: "flaky", tool: "mock.fail", arguments: { fail_attempts: 2 }, retry: { attempts: 3, backoff_ms: 10 } }],
    });
    const run = await waitForRun(stack.operator, await startRun(stack.operator, "retry"));
    expect(run.status).toBe("completed");
    expect(stepOf(run, "flaky")).toMatchObject({ status: "completed", attempts: 3, output: { succeeded_on_attempt: 3 } });
  });

  it("fails a step that exceeds its timeout, and the run with it", async () => {
    await define(stack.operator, {
      name: "timeout",
      steps: [
        { step_id: "slow", tool: "mock.sleep", arguments: { ms: 10_000 }, timeout_ms: 300 },
        { step_id: "after", depends_on: ["slow"], tool: "mock.echo" },
      ],
    });
    const started = Date.now();
    const run = await waitForRun(stack.operator, await startRun(stack.operator, "timeout"));
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(run.status).toBe("failed");
    expect(stepOf(run, "slow")).toMatchObject({ status: "failed", error: { code: "TIMEOUT" } });
    expect(stepOf(run, "after").status).toBe("skipped");
    expect(run.error.code).toBe("TIMEOUT");
  });

  it("on_failure: continue lets the run go on; a fallback step replaces a failed one", async () => {
    await define(stack.operator, {
      name: "tolerant",
      steps: [
        { step_id: "broken", tool: "mock.fail", arguments: { message: "nope" }, on_failure: "continue" },
        { step_id: "primary", tool: "mock.fail", arguments: { message: "down" }, on_failure: { fallback: "backup" } },
        { step_id: "backup", tool: "mock.echo", arguments: { from: "backup" } },
        {
          step_id: "after",
          depends_on: ["broken", "primary"],
          tool: "mock.echo",
          arguments: { broken: "{{ steps.broken.status }}", got: "{{ steps.primary.output.echo.from }}" },
        },
      ],
    });
    const run = await waitForRun(stack.operator, await startRun(stack.operator, "tolerant"));
    expect(run.status).toBe("completed");
    expect(stepOf(run, "broken")).toMatchObject({ status: "failed", error: { code: "TOOL_ERROR", message: "nope" } });
    expect(stepOf(run, "backup").status).toBe("completed");
    expect(stepOf(run, "after").output).toEqual({ echo: { broken: "failed", got: "backup" } });
  });

  it("waits on an approval step until it is completed through the API", async () => {
    await define(stack.operator, {
      name: "approve",
      steps: [
        { step_id: "draft", tool: "mock.echo", arguments: { text: "hello" } },
        { step_id: "review", depends_on: ["draft"], approval: { prompt: "ship it?" } },
        { step_id: "publish", depends_on: ["review"], tool: "mock.echo", arguments: { note: "{{ steps.review.output.note }}" } },
      ],
    });
    const runId = await startRun(stack.operator, "approve");
    await waitForStep(stack.operator, runId, "review", "waiting");
    // report_step_completion is also an orchestration tool (the same handler /mcp exposes).
    const viaTool = await stack.operator.post("/api/v1/orchestration/get_workflow_run", { run_id: runId });
    expect(stepOf(viaTool.body, "review").status).toBe("waiting");
    // Reporting a step that is not waiting is a conflict; a viewer may not approve.
    expect((await stack.operator.post(`/api/v1/runs/${runId}/steps/draft/complete`, {})).status).toBe(409);
    expect((await stack.viewer.post(`/api/v1/runs/${runId}/steps/review/complete`, {})).status).toBe(403);
    expect((await stack.otherTenant.post(`/api/v1/runs/${runId}/steps/review/complete`, {})).status).toBe(404);
    const approved = await stack.operator.post(`/api/v1/runs/${runId}/steps/review/complete`, { output: { approved: true, note: "lgtm" } });
    expect(approved.status).toBe(202);
    const run = await waitForRun(stack.operator, runId);
    expect(run.status).toBe("completed");
    expect(stepOf(run, "review")).toMatchObject({ status: "completed", output: { approved: true, note: "lgtm" } });
    expect(stepOf(run, "publish").output).toEqual({ echo: { note: "lgtm" } });
  });

  it("a rejected approval fails the run", async () => {
    const runId = await startRun(stack.operator, "approve");
    await waitForStep(stack.operator, runId, "review", "waiting");
    const rejected = await stack.operator.post("/api/v1/orchestration/report_step_failure", {
      run_id: runId,
      step_id: "review",
      message: "not yet",
    });
    expect(rejected.body).toEqual({ run_id: runId, step_id: "review", accepted: true });
    const run = await waitForRun(stack.operator, runId);
    expect(run.status).toBe("failed");
    expect(stepOf(run, "review").error).toEqual({ code: "TOOL_ERROR", message: "not yet" });
    expect(stepOf(run, "publish").status).toBe("skipped");
  });

  it("cancels a run: running steps are cancelled, the rest skipped", async () => {
    await define(stack.operator, {
      name: "cancellable",
      steps: [
        { step_id: "long", tool: "mock.sleep", arguments: { ms: 60_000 } },
        { step_id: "next", depends_on: ["long"], tool: "mock.echo" },
      ],
    });
    const runId = await startRun(stack.operator, "cancellable");
    await waitForStep(stack.operator, runId, "long", "running");
    expect((await stack.operator.post(`/api/v1/runs/${runId}/cancel`, {})).status).toBe(202);
    const run = await waitForRun(stack.operator, runId);
    expect(run.status).toBe("cancelled");
    expect(stepOf(run, "long").status).toBe("cancelled");
    expect(stepOf(run, "next").status).toBe("skipped");
    expect((await stack.operator.post(`/api/v1/runs/${runId}/cancel`, {})).status).toBe(409);
    // The step's task was running on a worker: it is aborted, not left to sleep its minute.
    const redis = connect();
    const queue = new Queue("agent.mock", { connection: redis, prefix: stack.prefix });
    try {
      const deadline = Date.now() + 10_000;
      let job = await queue.getJob(`run.${runId}.long`);
      while (Date.now() < deadline && !(job?.finishedOn && job.failedReason)) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        job = await queue.getJob(`run.${runId}.long`);
      }
      expect(job?.failedReason).toMatch(/^CANCELLED/);
      expect((job?.finishedOn ?? 0) - (job?.processedOn ?? 0)).toBeLessThan(30_000);
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });

  it("rejects a cycle with a 422 naming the cycle, and other graph errors naming their steps", async () => {
    const cycle = await stack.operator.post("/api/v1/workflows", {
      name: "loop",
      steps: [
        { step_id: "a", tool: "mock.echo", depends_on: ["c"] },
        { step_id: "b", tool: "mock.echo", depends_on: ["a"] },
        { step_id: "c", tool: "mock.echo", depends_on: ["b"] },
        { step_id: "d", tool: "mock.echo" },
      ],
    });
    expect(cycle.status).toBe(422);
    expect(cycle.body.error_code).toBe("UNPROCESSABLE");
    expect(cycle.body.message).toMatch(/cycle: (a → b → c → a|b → c → a → b|c → a → b → c)/);
    expect(cycle.body.details.steps.sort()).toEqual(["a", "b", "c"]);

    const cases: Array<[unknown, RegExp]> = [
      [{ name: "x", steps: [{ step_id: "a", tool: "mock.echo", depends_on: ["ghost"] }] }, /unknown step 'ghost'/],
      [
        {
          name: "x",
          steps: [
            { step_id: "a", tool: "mock.echo" },
            { step_id: "a", tool: "mock.echo" },
          ],
        },
        /duplicate step id 'a'/,
      ],
      [{ name: "x", steps: [{ step_id: "a", tool: "mock.nope" }] }, /no tool 'nope'/],
      [{ name: "x", steps: [{ step_id: "a", tool: "ghost.echo" }] }, /unknown agent/],
      [
        {
          name: "x",
          steps: [
            { step_id: "a", tool: "mock.echo" },
            { step_id: "b", tool: "mock.echo", arguments: { v: "{{ steps.a.output }}" } },
          ],
        },
        /reads steps.a, which is not upstream/,
      ],
    ];
    for (const [body, message] of cases) {
      const response = await stack.operator.post("/api/v1/workflows", body);
      expect(response.status, JSON.stringify(response.body)).toBe(422);
      expect(response.body.message).toMatch(message);
    }
  });

  it("accepts YAML, versions edits, and runs keep the version they started with", async () => {
    const yaml = `name: versioned
steps:
  - step_id: only
    tool: mock.echo
    arguments: { v: 1 }
`;
    const first = await stack.operator.post("/api/v1/workflows", yaml, { "content-type": "application/yaml" });
    expect(first.status).toBe(201);
    expect(first.body.version).toBe(1);
    const same = await stack.operator.post("/api/v1/workflows", yaml, { "content-type": "application/yaml" });
    expect(same.body).toMatchObject({ version: 1, created: false });
    const oldRun = await startRun(stack.operator, "versioned");
    const second = await stack.operator.post("/api/v1/workflows", yaml.replace("v: 1", "v: 2"), { "content-type": "application/yaml" });
    expect(second.body.version).toBe(2);
    const newRun = await startRun(stack.operator, "versioned");
    expect((await waitForRun(stack.operator, oldRun)).output).toEqual({ only: { echo: { v: 1 } } });
    expect((await waitForRun(stack.operator, newRun)).output).toEqual({ only: { echo: { v: 2 } } });
    expect((await stack.operator.get("/api/v1/workflows/versioned?version=1")).body.definition.steps[0].arguments).toEqual({ v: 1 });
  });

  it("an idempotency key returns the same run; runs are listed and tenant-scoped", async () => {
    const key = { "idempotency-key": `k-${Date.now()}` };
    const a = await stack.operator.post("/api/v1/workflows/versioned/runs", { input: {} }, key);
    const b = await stack.operator.post("/api/v1/workflows/versioned/runs", { input: {} }, key);
    expect(a.status).toBe(201);
    expect(b.status).toBe(200);
    expect(b.body.run_id).toBe(a.body.run_id);
    await waitForRun(stack.operator, a.body.run_id);
    const list = await stack.viewer.get("/api/v1/runs?limit=500");
    expect(list.body.runs.map((r: any) => r.run_id)).toContain(a.body.run_id);
    expect((await stack.otherTenant.get(`/api/v1/runs/${a.body.run_id}`)).status).toBe(404);
    expect((await stack.otherTenant.get("/api/v1/runs")).body.runs).toEqual([]);
  });

  it("streams step transitions as server-sent events", async () => {
    const runId = await startRun(stack.operator, "diamond", { n: 1 });
    const response = await fetch(`${stack.url}/api/v1/runs/${runId}/events`, {
      headers: { authorization: "Bearer test-viewer-key-0123456789" },
    });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const text = await response.text();
    const events = text
      .split("\n")
      .filter((line) => line.startsWith("data: "))
      .map((line) => JSON.parse(line.slice(6)));
    expect(events.at(-1)).toMatchObject({ kind: "run", status: "completed" });
    const completed = events.filter((e) => e.kind === "step" && e.status === "completed").map((e) => e.step_id);
    expect(completed.sort()).toEqual(["a", "b", "c", "d"]);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  });

  it("runs a sub-workflow as a step", async () => {
    await define(stack.operator, {
      name: "team",
      steps: [{ step_id: "work", tool: "mock.echo", arguments: { team: "{{ input.team }}" } }],
    });
    await define(stack.operator, {
      name: "org",
      steps: [
        { step_id: "teams", foreach: "{{ ['red', 'blue'] }}", workflow: "team", arguments: { team: "{{ item }}" } },
        { step_id: "report", depends_on: ["teams"], tool: "mock.echo", arguments: { teams: "{{ steps.teams.output.work.echo.team }}" } },
      ],
    });
    const run = await waitForRun(stack.operator, await startRun(stack.operator, "org"));
    expect(run.status).toBe("completed");
    expect(stepOf(run, "report").output).toEqual({ echo: { teams: ["red", "blue"] } });
  });

  it("passes a versioned context document between steps, keeping its history", async () => {
    await define(stack.operator, {
      name: "handoff",
      steps: [
        {
          step_id: "intake",
          tool: "mock.echo",
          arguments: { customer: "{{ input.customer }}" },
          context_write: { "variables.customer": "{{ output.echo.customer }}", conversation: ["hello"] },
        },
        {
          step_id: "answer",
          depends_on: ["intake"],
          context: ["variables.customer"],
          tool: "mock.echo",
          arguments: { greet: "Hi {{ context.variables.customer }}", sees_conversation: "{{ $exists(context.conversation) }}" },
          context_write: { conversation: "{{ ['hello', 'Hi ' & context.variables.customer] }}" },
        },
      ],
    });
    const runId = (
      await stack.operator.post("/api/v1/workflows/handoff/runs", { input: { customer: "Ada" }, context: { channel: "chat" } })
    ).body.run_id;
    const run = await waitForRun(stack.operator, runId);
    expect(run.status).toBe("completed");
    // A step reads only what it declares.
    expect(stepOf(run, "answer").output).toEqual({ echo: { greet: "Hi Ada", sees_conversation: false } });
    const latest = await stack.viewer.get(`/api/v1/runs/${runId}/context`);
    expect(latest.body).toMatchObject({
      version: 3,
      document: { channel: "chat", variables: { customer: "Ada" }, conversation: ["hello", "Hi Ada"] },
    });
    expect(latest.body.history.map((h: any) => [h.version, h.by, h.paths])).toEqual([
      [1, "start", ["channel"]],
      [2, "step.intake", ["variables.customer", "conversation"]],
      [3, "step.answer", ["conversation"]],
    ]);
    const past = await stack.viewer.get(`/api/v1/runs/${runId}/context?version=2`);
    expect(past.body.document).toEqual({ channel: "chat", variables: { customer: "Ada" }, conversation: ["hello"] });
    expect((await stack.otherTenant.get(`/api/v1/runs/${runId}/context`)).status).toBe(404);
    expect((await stack.viewer.get(`/api/v1/runs/${runId}/context?version=9`)).status).toBe(404);
  });

  it("decomposes a task, runs the subtasks in parallel and merges their results", async () => {
    await define(stack.operator, {
      name: "hub",
      steps: [
        {
          step_id: "split",
          decompose: { tool: "mock.split", arguments: { text: "{{ input.text }}" }, subtask_tool: "mock.echo", merge: "object" },
        },
        {
          step_id: "concat",
          decompose: { tool: "mock.split", arguments: { text: "x;y", separator: ";", tool: "mock.echo" }, merge: "concat", concurrency: 1 },
        },
        {
          step_id: "summary",
          decompose: { tool: "mock.split", arguments: { text: "p,q" }, subtask_tool: "mock.echo", merge: "llm", merge_tool: "mock.echo" },
        },
      ],
    });
    const run = await waitForRun(stack.operator, await startRun(stack.operator, "hub", { text: "alpha, beta, gamma" }));
    expect(run.status).toBe("completed");
    expect(stepOf(run, "split").output).toEqual({
      "part-1": { echo: { message: "alpha" } },
      "part-2": { echo: { message: "beta" } },
      "part-3": { echo: { message: "gamma" } },
    });
    expect(stepOf(run, "split").items).toMatchObject({ total: 3, completed: 3 });
    expect(stepOf(run, "concat").output).toEqual([{ echo: { message: "x" } }, { echo: { message: "y" } }]);
    expect(stepOf(run, "summary").output.echo.results).toEqual([{ echo: { message: "p" } }, { echo: { message: "q" } }]);
    // Without a concurrency cap the subtasks are BullMQ flow children of one merge parent.
    const redis = connect();
    const queue = new Queue("agent.mock", { connection: redis, prefix: stack.prefix });
    for (const i of [0, 1, 2]) {
      const child = await queue.getJob(`run.${run.run_id}.split.${i}`);
      expect(child?.parentKey).toBe(`${stack.prefix}:coordinator:done.${run.run_id}.split.group`);
    }
    await queue.close();
    redis.disconnect();
  });

  it("assigns subtasks that name a capability to an agent that has it", async () => {
    await define(stack.operator, {
      name: "bycapsplit",
      steps: [
        { step_id: "split", decompose: { tool: "mock.split", arguments: { text: "u,v", capability: "demo" }, capability_tool: "echo" } },
      ],
    });
    const run = await waitForRun(stack.operator, await startRun(stack.operator, "bycapsplit"));
    expect(run.status, JSON.stringify(run)).toBe("completed");
    expect(stepOf(run, "split").output).toEqual([{ echo: { message: "u" } }, { echo: { message: "v" } }]);
  });

  it("a failing subtask fails its decompose step after the others finish", async () => {
    await define(stack.operator, {
      name: "subfail",
      steps: [
        {
          step_id: "split",
          decompose: { tool: "mock.split", arguments: { text: "a,b", tool: "mock.fail" }, merge: "concat" },
          on_failure: "continue",
        },
        { step_id: "after", depends_on: ["split"], tool: "mock.echo", arguments: { status: "{{ steps.split.status }}" } },
      ],
    });
    const run = await waitForRun(stack.operator, await startRun(stack.operator, "subfail"));
    expect(run.status).toBe("completed");
    expect(stepOf(run, "split")).toMatchObject({ status: "failed", error: { code: "TOOL_ERROR" }, items: { total: 2, failed: 2 } });
    expect(stepOf(run, "after").output).toEqual({ echo: { status: "failed" } });
  });

  it("fails a decompose step whose splitter returns no subtask list", async () => {
    await define(stack.operator, {
      name: "badsplit",
      steps: [{ step_id: "split", decompose: { tool: "mock.echo", arguments: { subtasks: "nope" }, subtask_tool: "mock.echo" } }],
    });
    const run = await waitForRun(stack.operator, await startRun(stack.operator, "badsplit"));
    expect(run.status).toBe("failed");
    expect(stepOf(run, "split").error.code).toBe("VALIDATION_FAILED");
  });

  it("offers decompose_task, assign_subtasks, delegate_subtask and merge_results as API calls", async () => {
    const decomposed = await stack.operator.post("/api/v1/orchestration/decompose_task", {
      splitter: "mock.split",
      arguments: { text: "one, two" },
    });
    expect(decomposed.status, JSON.stringify(decomposed.body)).toBe(200);
    expect(decomposed.body.subtasks.map((s: { description: string }) => s.description)).toEqual(["one", "two"]);

    const assigned = await stack.operator.post("/api/v1/orchestration/assign_subtasks", {
      subtasks: [{ id: "a", tool: "mock.echo" }, { id: "b" }],
      tool_name: "echo",
    });
    expect(assigned.body.assignments).toEqual([
      { id: "a", tool: "mock.echo", reason: "named by the subtask" },
      { id: "b", tool: "mock.echo", reason: expect.stringContaining("least loaded") },
    ]);
    const noAgent = await stack.operator.post("/api/v1/orchestration/assign_subtasks", { subtasks: [{ capability: "telepathy" }] });
    expect(noAgent.status).toBe(404);

    const delegated = await stack.operator.post("/api/v1/orchestration/delegate_subtask", {
      tool: "mock.echo",
      arguments: { message: "one" },
      wait: true,
    });
    expect(delegated.body).toMatchObject({ status: "completed", result: { echo: { message: "one" } } });

    const merged = await stack.operator.post("/api/v1/orchestration/merge_results", { results: [1, 2], ids: ["x", "y"], merge: "object" });
    expect(merged.body).toEqual({ merged: { x: 1, y: 2 } });
    const llm = await stack.operator.post("/api/v1/orchestration/merge_results", {
      results: [1, 2],
      merge: "llm",
      merge_tool: "mock.echo",
    });
    expect(llm.body.merged).toEqual({ echo: { results: [1, 2] } });
    expect((await stack.viewer.post("/api/v1/orchestration/merge_results", { results: [] })).status).toBe(403);
    const bad = await stack.operator.post("/api/v1/orchestration/decompose_task", { splitter: "mock.echo", arguments: { x: 1 } });
    expect(bad.status).toBe(422);
  });

  it("fails a participant step that stops heartbeating; heartbeats keep it alive", async () => {
    await define(stack.operator, {
      name: "participant",
      steps: [
        { step_id: "work", assigned_role: "writer", heartbeat_ms: 400 },
        { step_id: "after", depends_on: ["work"], tool: "mock.echo", arguments: { got: "{{ steps.work.output }}" } },
      ],
    });
    // Alive: heartbeats every 100 ms for well past heartbeat_ms, then completion.
    const alive = await startRun(stack.operator, "participant");
    await waitForStep(stack.operator, alive, "work", "waiting");
    const until = Date.now() + 1_000;
    while (Date.now() < until) {
      expect((await stack.operator.post(`/api/v1/runs/${alive}/steps/work/heartbeat`, {})).status).toBe(202);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(stepOf((await stack.operator.get(`/api/v1/runs/${alive}`)).body, "work").status).toBe("waiting");
    await stack.operator.post(`/api/v1/runs/${alive}/steps/work/complete`, { output: "done" });
    expect(stepOf(await waitForRun(stack.operator, alive), "after").output).toEqual({ echo: { got: "done" } });

    // Silent: the durable heartbeat timer fails the step.
    const silent = await startRun(stack.operator, "participant");
    const run = await waitForRun(stack.operator, silent);
    expect(run.status).toBe("failed");
    expect(stepOf(run, "work").error).toMatchObject({ code: "TIMEOUT", message: expect.stringContaining("no heartbeat") });
  });

  it("routes a step by capability and clears step timers when steps finish", async () => {
    await define(stack.operator, {
      name: "bycap",
      steps: [{ step_id: "any", capability: "demo", capability_tool: "echo", arguments: { hi: 1 }, timeout_ms: 600_000 }],
    });
    const run = await waitForRun(stack.operator, await startRun(stack.operator, "bycap"));
    expect(stepOf(run, "any").output).toEqual({ echo: { hi: 1 } });
    const unknown = await stack.operator.post("/api/v1/workflows", { name: "nocap", steps: [{ step_id: "x", capability: "telepathy" }] });
    expect(unknown.status).toBe(422);
    expect(unknown.body.message).toMatch(/no agent has capability 'telepathy'/);
    // The 10-minute step timer was removed when the step completed.
    const redis = connect();
    const queue = new Queue("coordinator", { connection: redis, prefix: stack.prefix });
    expect(await queue.getJob(`tmo.${run.run_id}.any`)).toBeUndefined();
    await queue.close();
    redis.disconnect();
  });

  it("offers the workflow and decomposition tools on /mcp", async () => {
    const client = await connectMcp([stack.url], OPERATOR_KEY);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      for (const name of [
        "decompose_task",
        "assign_subtasks",
        "delegate_subtask",
        "merge_results",
        "start_workflow_run",
        "get_workflow_run",
        "report_step_completion",
        "report_step_failure",
      ])
        expect(names).toContain(name);
      const json = (result: Awaited<ReturnType<typeof client.callTool>>) =>
        JSON.parse((result.content as Array<{ text: string }>)[0]?.text ?? "null");
      const merged = await client.callTool({ name: "merge_results", arguments: { results: ["a", "b"], merge: "object", ids: ["x", "y"] } });
      expect(json(merged)).toEqual({ merged: { x: "a", y: "b" } });
      const started = await client.callTool({ name: "start_workflow_run", arguments: { workflow: "diamond", input: { n: 2 } } });
      const runId = json(started).run_id;
      expect((await waitForRun(stack.operator, runId)).status).toBe("completed");
    } finally {
      await client.close();
    }
  });
});
