import {
  type Action,
  advance,
  advanceBatch,
  findIssues,
  newRunState,
  parseDefinition,
  type RunEvent,
  type RunState,
  reconcileActions,
  render,
  type WorkflowDefinition,
} from "@switchyard/workflow";
import { describe, expect, it } from "vitest";

const def = (steps: unknown[], extra: Record<string, unknown> = {}): WorkflowDefinition => parseDefinition({ name: "t", steps, ...extra });

function start(definition: WorkflowDefinition, input: unknown = {}): RunState {
  return newRunState({ run_id: "run_x", tenant: "acme", workflow: "t", version: 1, definition, input, now: 1 });
}

async function step(run: RunState, definition: WorkflowDefinition, event: RunEvent) {
  return advance({ run, definition, event, now: 2 });
}

const dispatched = (actions: Action[]) => actions.flatMap((a) => (a.type === "dispatch" ? [a.job_id] : []));

describe("state machine", () => {
  const diamond = def([
    { step_id: "a", tool: "m.echo", arguments: { v: "{{ input.v }}" } },
    { step_id: "b", depends_on: ["a"], tool: "m.echo", arguments: { v: "{{ steps.a.output + 1 }}" } },
    { step_id: "c", depends_on: ["a"], tool: "m.echo" },
    { step_id: "d", depends_on: ["b", "c"], tool: "m.echo" },
  ]);

  it("starts roots, fans out after a, fans in only when both branches finish", async () => {
    const r0 = start(diamond, { v: 41 });
    const r1 = await step(r0, diamond, { type: "start" });
    expect(dispatched(r1.actions)).toEqual(["run.run_x.a"]);
    const r2 = await step(r1.run, diamond, { type: "step_done", step_id: "a", output: 41 });
    expect(dispatched(r2.actions)).toEqual(["run.run_x.b", "run.run_x.c"]);
    expect(r2.actions.find((a) => a.type === "dispatch" && a.step_id === "b")).toMatchObject({ arguments: { v: 42 } });
    const r3 = await step(r2.run, diamond, { type: "step_done", step_id: "b", output: 1 });
    expect(dispatched(r3.actions)).toEqual([]);
    const r4 = await step(r3.run, diamond, { type: "step_done", step_id: "c", output: 2 });
    expect(dispatched(r4.actions)).toEqual(["run.run_x.d"]);
    const r5 = await step(r4.run, diamond, { type: "step_done", step_id: "d", output: "end" });
    expect(r5.run.status).toBe("completed");
    expect(r5.run.output).toEqual({ d: "end" });
    expect(r5.actions).toContainEqual({ type: "finished", status: "completed" });
  });

  it("ignores a redelivered event and reconciles the effects of the current state", async () => {
    const r1 = await step(start(diamond), diamond, { type: "start" });
    const r2 = await step(r1.run, diamond, { type: "step_done", step_id: "a", output: 1 });
    const again = await step(r2.run, diamond, { type: "step_done", step_id: "a", output: 1 });
    expect(again.applied).toBe(false);
    expect(again.actions).toEqual([]);
    expect(again.run).toBe(r2.run);
    const actions = await reconcileActions({ run: r2.run, definition: diamond, now: 3 });
    expect(dispatched(actions)).toEqual(["run.run_x.b", "run.run_x.c"]);
    expect((await step(r2.run, diamond, { type: "start" })).applied).toBe(false);
  });

  it("does not mutate its input (pure)", async () => {
    const r0 = start(diamond);
    const frozen = JSON.stringify(r0);
    await step(r0, diamond, { type: "start" });
    expect(JSON.stringify(r0)).toBe(frozen);
  });

  it("applies a batch of events like one advance per event, skipping the ones that do not apply", async () => {
    const wide = def([
      { step_id: "each", foreach: { items: "{{ [1..6] }}", concurrency: 2 }, tool: "m.echo", arguments: { i: "{{ item }}" } },
      { step_id: "after", depends_on: ["each"], tool: "m.echo" },
    ]);
    const r1 = await step(start(wide), wide, { type: "start" });
    const events: RunEvent[] = [
      { type: "step_done", step_id: "each", item: 0, output: "a" },
      { type: "step_done", step_id: "each", item: 0, output: "a" }, // redelivered
      { type: "step_done", step_id: "each", item: 1, output: "b" },
      { type: "step_done", step_id: "each", item: 2, output: "c" },
    ];
    let run = r1.run;
    const actions: Action[] = [];
    const applied: boolean[] = [];
    for (const event of events) {
      const r = await step(run, wide, event);
      run = r.run;
      actions.push(...r.actions);
      applied.push(r.applied);
    }
    const frozen = JSON.stringify(r1.run);
    const batch = await advanceBatch({ run: r1.run, definition: wide, events, now: 2 });
    expect(JSON.stringify(r1.run)).toBe(frozen);
    expect(batch.applied).toEqual(applied);
    expect(batch.applied).toEqual([true, false, true, true]);
    expect(batch.run).toEqual(run);
    expect(batch.actions).toEqual(actions);
    expect(dispatched(batch.actions)).toEqual(["run.run_x.each.2", "run.run_x.each.3", "run.run_x.each.4"]);
    expect(batch.transitions.map((t) => t.seq)).toEqual(batch.transitions.map((_, i) => r1.run.seq + i + 1));

    // Handed over (owned): the same result, computed in place.
    const owned = structuredClone(r1.run);
    const inPlace = await advanceBatch({ run: owned, definition: wide, events, now: 2, owned: true });
    expect(inPlace.run).toBe(owned);
    expect(inPlace.run).toEqual(run);
    // Nothing applies: the input run comes back untouched.
    const none = await advanceBatch({ run: run, definition: wide, events: [events[0] as RunEvent], now: 3 });
    expect(none.applied).toEqual([false]);
    expect(none.run).toBe(run);
  });

  it("fails the run on a failing step and skips the rest; continue and fallback keep it going", async () => {
    const r1 = await step(start(diamond), diamond, { type: "start" });
    const failed = await step(r1.run, diamond, { type: "step_failed", step_id: "a", error: { code: "TOOL_ERROR", message: "x" } });
    expect(failed.run.status).toBe("failed");
    expect(Object.values(failed.run.steps).map((s) => s.status)).toEqual(["failed", "skipped", "skipped", "skipped"]);

    const tolerant = def([
      { step_id: "a", tool: "m.x", on_failure: "continue" },
      { step_id: "b", depends_on: ["a"], tool: "m.echo" },
    ]);
    const t1 = await step(start(tolerant), tolerant, { type: "start" });
    const t2 = await step(t1.run, tolerant, { type: "step_failed", step_id: "a", error: { code: "TOOL_ERROR", message: "x" } });
    expect(t2.run.status).toBe("running");
    expect(dispatched(t2.actions)).toEqual(["run.run_x.b"]);
  });

  it("foreach keeps at most `concurrency` items in flight", async () => {
    const each = def([
      { step_id: "e", foreach: { items: "{{ [1..5] }}", concurrency: 2 }, tool: "m.echo", arguments: { n: "{{ item }}" } },
    ]);
    let r = await step(start(each), each, { type: "start" });
    expect(dispatched(r.actions)).toEqual(["run.run_x.e.0", "run.run_x.e.1"]);
    for (let i = 0; i < 5; i++) {
      r = await step(r.run, each, { type: "step_done", step_id: "e", item: i, output: i * 10 });
      expect(r.run.steps.e?.items?.filter((it) => it.status === "running").length).toBeLessThanOrEqual(2);
    }
    expect(r.run.status).toBe("completed");
    expect(r.run.steps.e?.output).toEqual([0, 10, 20, 30, 40]);
  });

  it("a timer for a finished step changes nothing; a waiting step times out", async () => {
    const waiting = def([{ step_id: "ok", approval: {}, timeout_ms: 50 }]);
    const r1 = await step(start(waiting), waiting, { type: "start" });
    expect(r1.actions).toContainEqual(expect.objectContaining({ type: "timer", job_id: "tmo.run_x.ok", delay_ms: 50 }));
    const r2 = await step(r1.run, waiting, { type: "step_timeout", step_id: "ok" });
    expect(r2.run.steps.ok).toMatchObject({ status: "failed", error: { code: "TIMEOUT" } });
    expect((await step(r2.run, waiting, { type: "step_timeout", step_id: "ok" })).applied).toBe(false);
  });
});

describe("validation", () => {
  it("names a cycle, unknown dependencies, duplicates and non-upstream reads", () => {
    const issues = findIssues(
      def([
        { step_id: "a", tool: "m.echo", depends_on: ["b"] },
        { step_id: "b", tool: "m.echo", depends_on: ["a"] },
      ]),
    );
    expect(issues).toEqual([{ code: "CYCLE", message: "dependency cycle: a → b → a", steps: ["a", "b"] }]);
    const more = findIssues(
      def([
        { step_id: "a", tool: "m.echo", depends_on: ["zz"] },
        { step_id: "a", tool: "m.echo" },
        { step_id: "c", tool: "m.echo", arguments: { x: "{{ steps.a.output }}" } },
        { step_id: "d", tool: "m.echo", arguments: { x: "{{ ((( }}" } },
      ]),
      { checkTool: (t) => (t === "m.echo" ? undefined : "unknown") },
    );
    expect(more.map((i) => i.code)).toEqual(["DUPLICATE_STEP", "UNKNOWN_DEPENDENCY", "NOT_UPSTREAM", "BAD_EXPRESSION"]);
  });

  it("a step needs exactly one kind", () => {
    expect(() => def([{ step_id: "a" }])).toThrow(/needs one of/);
    expect(() => def([{ step_id: "a", tool: "m.echo", approval: {} }])).toThrow(/exactly one kind/);
  });
});

describe("templates (JSONata)", () => {
  it("keeps whole-expression values typed and interpolates mixed strings", async () => {
    const scope = { input: { n: 2, tags: ["a", "b"] }, steps: {} };
    expect(
      await render({ n: "{{ input.n * 2 }}", s: "n={{ input.n }}", t: "{{ input.tags }}", missing: "{{ input.nope }}" }, scope),
    ).toEqual({
      n: 4,
      s: "n=2",
      t: ["a", "b"],
      missing: null,
    });
  });
});
