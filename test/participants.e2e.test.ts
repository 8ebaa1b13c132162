import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import type { ApiClient } from "./helpers/http.js";
import { OPERATOR_KEY, ROOT, type Stack, startStack } from "./helpers/stack.js";
import { waitFor } from "./helpers/wait.js";

const PARTICIPANT = path.join(ROOT, "test/fixtures/participant.mjs");
/** The participant processes use only `/mcp`, with the official MCP client (the fixture also speaks REST). */
const TRANSPORT = "mcp";

const SETTINGS = { heartbeat_ttl_ms: 1_000, offline_grace_ms: 300, sweep_every_ms: 100, message_redeliver_after_ms: 1_000 };
const FILES = ["src/a.ts", "src/b.ts", "src/c.ts", "src/d.ts"];

interface Participant {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  exited: Promise<unknown>;
}

describe("participant agents end to end (separate processes over /mcp)", () => {
  let stack: Stack | undefined;
  const children: Participant[] = [];

  afterEach(async () => {
    for (const p of children.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
      await p.exited;
    }
    await stack?.close();
    stack = undefined;
  });

  function start(id: string, env: Record<string, string>): Participant {
    const child = spawn(process.execPath, [PARTICIPANT], {
      env: {
        ...process.env,
        SWITCHYARD_URL: (stack as Stack).url,
        BOOTSTRAP_KEY: OPERATOR_KEY,
        TRANSPORT,
        AGENT_ID: id,
        HEARTBEAT_MS: "200",
        ...env,
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const p: Participant = { child, lines: [], exited: new Promise((resolve) => child.once("exit", resolve)) };
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      try {
        p.lines.push(JSON.parse(line));
      } catch {
        // not ours
      }
    });
    children.push(p);
    return p;
  }

  const call = async (client: ApiClient, tool: string, body: unknown = {}) => {
    const response = await client.post(`/api/v1/participants/${tool}`, body);
    if (response.status !== 200) throw new Error(`${tool}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };

  async function runJob(opts: { hangW2: boolean }) {
    stack = await startStack({ worker: false, config: { agents: { mock: { type: "mock" } }, participants: SETTINGS } });
    const s = stack;
    const lead = start("lead", { ROLE: "lead", CAPS: "plan" });
    const w1 = start("w1", { ROLE: "worker", CAPS: "code", PEERS: "w2", WAIT_FOR_PEER: opts.hangW2 ? "0" : "1" });
    const w2 = start("w2", { ROLE: "worker", CAPS: "code", PEERS: "w1", WAIT_FOR_PEER: "1", HANG: opts.hangW2 ? "1" : "0" });
    await waitFor(
      async () => {
        const { agents } = await call(s.viewer, "find_agents", { statuses: ["available"] });
        return agents.length === 3;
      },
      { what: "three registered participants" },
    );
    const job = await call(s.operator, "delegate_subtask", {
      title: "refactor the module",
      assignee: "lead",
      input: { files: FILES, workers: ["w1", "w2"] },
    });
    return { s, job, lead, w1, w2 };
  }

  async function waitForJob(s: Stack, taskId: string) {
    return waitFor(
      async () => {
        const task = await call(s.viewer, "get_participant_task", { task_id: taskId });
        if (task.status === "failed") throw new Error(`job failed: ${JSON.stringify(task.error)}`);
        return task.status === "completed" ? task : undefined;
      },
      { what: "job completed", timeoutMs: 25_000, intervalMs: 100 },
    );
  }

  it("three participants: decompose, delegate, claim, message, lock and report; the job completes", async () => {
    const { s, job } = await runJob({ hangW2: false });
    const done = await waitForJob(s, job.task_id);
    const parts = done.result.parts as { file: string; by: string; token: string; held_by_me: boolean; heard_from: string[] }[];
    expect(parts.map((p) => p.file)).toEqual(FILES);
    // Split by name between the two workers, each under its own lock, each hearing from its peer.
    expect(parts.map((p) => p.by)).toEqual(["w1", "w2", "w1", "w2"]);
    expect(parts.every((p) => p.held_by_me)).toBe(true);
    for (const p of parts) expect(p.heard_from).toContain(p.by === "w1" ? "w2" : "w1");
    expect(new Set(parts.map((p) => p.token)).size).toBe(4);
    // Every lock was released.
    for (const file of FILES) expect((await call(s.viewer, "check_file_lock", { path: file })).held).toBe(false);
    const subtasks = (await call(s.viewer, "list_participant_tasks", { parent_task_id: job.task_id })).tasks;
    expect(subtasks.every((t: { status: string; attempts: number }) => t.status === "completed" && t.attempts === 1)).toBe(true);
  });

  it("a participant SIGKILLed mid-work: its heartbeat expires, its subtask goes to the other, the job completes", async () => {
    const { s, job, w2 } = await runJob({ hangW2: true });
    const working = await waitFor(() => w2.lines.find((l) => l.event === "working"), { what: "w2 mid-work" });
    const held = working.task_id as string;
    // It holds its subtask and the file's lock when it dies.
    expect((await call(s.viewer, "get_participant_task", { task_id: held })).claimed_by).toBe("w2");
    w2.child.kill("SIGKILL");
    await w2.exited;

    const done = await waitForJob(s, job.task_id);
    const parts = done.result.parts as { file: string; by: string }[];
    expect(parts.map((p) => p.file)).toEqual(FILES);
    expect(parts.every((p) => p.by === "w1")).toBe(true);
    const redone = await call(s.viewer, "get_participant_task", { task_id: held });
    expect(redone).toMatchObject({ status: "completed", claimed_by: "w1", assignee: "w1", attempts: 2 });
    const offline = (await call(s.viewer, "find_agents", { statuses: ["offline"] })).agents.map((a: { id: string }) => a.id);
    expect(offline).toEqual(["w2"]);
    const events = (await call(s.viewer, "list_coordination_events", { limit: 1000 })).events;
    expect(events.some((e: any) => e.type === "agent.offline" && e.data.agent_id === "w2")).toBe(true);
    expect(events.some((e: any) => e.type === "task.redelegated" && e.data.task_id === held && e.data.assignee === "w1")).toBe(true);
  });
});
