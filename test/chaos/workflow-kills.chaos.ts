import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type ApiService, startApiService } from "@switchyard/api";
import { parseConfigObject } from "@switchyard/config";
import { createLogger } from "@switchyard/observability";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type CliProcess, spawnCli } from "../helpers/cli.js";
import { apiClient } from "../helpers/http.js";
import { connect, deletePrefix, redisUrl, uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";
import { define } from "../helpers/workflows.js";
import { report } from "./report.js";

const RUNS = 50;
const KEY = "chaos-admin-key-0123456789";

/** A 10-step workflow: a chain with a fan-out/fan-in and slow (sleep) steps to be killed in. */
const WORKFLOW = {
  name: "chaos",
  steps: [
    { step_id: "a", tool: "mock.echo", arguments: { v: "{{ input.n }}" } },
    { step_id: "s1", depends_on: ["a"], tool: "mock.sleep", arguments: { ms: 250 } },
    { step_id: "b", depends_on: ["s1"], tool: "mock.echo", arguments: { v: "{{ steps.a.output.echo.v * 2 }}" } },
    { step_id: "c1", depends_on: ["b"], tool: "mock.echo", arguments: { v: "{{ steps.b.output.echo.v + 1 }}" } },
    { step_id: "c2", depends_on: ["b"], tool: "mock.echo", arguments: { v: "{{ steps.b.output.echo.v + 2 }}" } },
    { step_id: "s2", depends_on: ["c1"], tool: "mock.sleep", arguments: { ms: 250 } },
    { step_id: "s3", depends_on: ["c2"], tool: "mock.sleep", arguments: { ms: 200 } },
    {
      step_id: "d",
      depends_on: ["s2", "s3", "c1", "c2"],
      tool: "mock.echo",
      arguments: { v: "{{ steps.c1.output.echo.v + steps.c2.output.echo.v }}" },
    },
    { step_id: "s4", depends_on: ["d"], tool: "mock.sleep", arguments: { ms: 200 } },
    { step_id: "e", depends_on: ["s4", "d"], tool: "mock.echo", arguments: { v: "{{ steps.d.output.echo.v * 10 }}" } },
  ],
};

/**
 * Chaos: two real coordinator processes and two real worker processes; coordinators and workers
 * are SIGKILLed at random points while 50 runs of a 10-step workflow are in flight. Every run
 * must complete with the right output, and no step may have been started twice except where a
 * killed worker's task was retried (BullMQ reports it stalled).
 */
describe("workflow chaos: coordinator and worker killed mid-run", () => {
  const prefix = uniquePrefix("chaos");
  const dir = mkdtempSync(path.join(tmpdir(), "sy-wf-chaos-"));
  const raw = {
    redis: { prefix },
    server: { port: 0 },
    auth: { keys: [{ key: KEY, role: "admin", tenant: "acme" }] },
    limits: { lock_duration_ms: 2_000, stalled_interval_ms: 1_000, max_stalled_count: 100, backoff_ms: 50, shutdown_timeout_ms: 1_000 },
    agents: { mock: { type: "mock", concurrency: 10 } },
  };
  const configFile = path.join(dir, "switchyard.yaml");
  writeFileSync(configFile, stringify(raw));
  const env = { REDIS_URL: redisUrl(), LOG_LEVEL: "info" };
  const redis = connect();
  const processes = new Set<CliProcess>();
  let api: ApiService | undefined;

  const start = (role: "coordinator" | "worker"): CliProcess => {
    const child = spawnCli([role, "--config", configFile], { env, cwd: dir });
    processes.add(child);
    return child;
  };
  const spawn = async (role: "coordinator" | "worker"): Promise<CliProcess> => {
    const child = start(role);
    await child.waitFor(role === "coordinator" ? /coordinator ready/ : /worker ready/, 30_000);
    return child;
  };
  let kills = 0;
  const kill = async (child: CliProcess) => {
    kills++;
    child.child.kill("SIGKILL");
    await child.exited;
    processes.delete(child);
  };

  afterAll(async () => {
    for (const child of processes) child.child.kill("SIGKILL");
    await api?.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it("every run completes with correct outputs; no non-retried step ran twice", { timeout: 180_000 }, async () => {
    const config = parseConfigObject(raw, { env: {}, file: configFile });
    api = await startApiService({
      config,
      redisUrl: redisUrl(),
      logger: createLogger({ level: "warn" }),
      keys: config.auth.keys,
      host: "127.0.0.1",
      port: 0,
    });
    const client = apiClient(api.url, KEY);
    // Two coordinators (they share the work and must never both start a step) and two workers.
    const coordinators = [await spawn("coordinator"), await spawn("coordinator")];
    const workers = [await spawn("worker"), await spawn("worker")];
    await define(client, WORKFLOW);

    const runIds = await Promise.all(
      Array.from({ length: RUNS }, async (_, n) => {
        const response = await client.post("/api/v1/workflows/chaos/runs", { input: { n } });
        expect(response.status).toBe(201);
        return response.body.run_id as string;
      }),
    );

    const finished = async () => {
      const runs = await Promise.all(runIds.map(async (id) => (await client.get(`/api/v1/runs/${id}`)).body));
      return runs.every((r) => ["completed", "failed", "cancelled"].includes(r.status)) ? runs : undefined;
    };

    // Kill at random points while the runs are in flight, in turn: every coordinator at once,
    // a worker, or one coordinator together with a worker (6 kills, then let them finish).
    const killed: string[] = [];
    const first = Math.floor(Math.random() * 3);
    for (let round = 0; round < 6 && !(await finished()); round++) {
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 700));
      const which = (first + round) % 3;
      const coordinatorVictims = which === 0 ? coordinators.splice(0) : which === 2 ? coordinators.splice(0, 1) : [];
      const workerVictims = which === 0 ? [] : workers.splice(0, 1);
      await Promise.all([...coordinatorVictims, ...workerVictims].map(kill));
      killed.push(["all coordinators", "worker", "coordinator+worker"][which] as string);
      // Restart at once without waiting for readiness: the next kill may hit a process mid-start.
      for (const _ of coordinatorVictims) coordinators.push(start("coordinator"));
      for (const _ of workerVictims) workers.push(start("worker"));
    }
    // Each kind of kill happened while runs were still in flight.
    expect(new Set(killed).size).toBe(3);

    const runs = await waitFor(finished, { timeoutMs: 120_000, intervalMs: 250, what: "all chaos runs to finish" });
    const right = runs.filter(
      (run, n) => run.status === "completed" && JSON.stringify(run.output) === JSON.stringify({ e: { echo: { v: (4 * n + 3) * 10 } } }),
    );
    for (const [n, run] of runs.entries()) {
      expect(run.status, JSON.stringify(run.error ?? run.steps.filter((s: any) => s.status !== "completed"))).toBe("completed");
      expect(run.output).toEqual({ e: { echo: { v: (4 * n + 3) * 10 } } });
      expect(run.steps.map((s: any) => s.status)).toEqual(Array(10).fill("completed"));
    }

    // Count executions from the agent queue's own event stream: one `added` per step job (the
    // engine never enqueued a step twice), and one `active` unless BullMQ retried it because its
    // worker died (a `stalled` event for that job).
    const events = await redis.xrange(`${prefix}:agent.mock:events`, "-", "+");
    const count = new Map<string, { added: number; active: number; stalled: number; completed: number }>();
    for (const [, fields] of events) {
      const entry: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) entry[fields[i] as string] = fields[i + 1] as string;
      const id = entry.jobId;
      if (!id) continue;
      const c = count.get(id) ?? { added: 0, active: 0, stalled: 0, completed: 0 };
      if (entry.event === "added") c.added += 1;
      if (entry.event === "active") c.active += 1;
      if (entry.event === "stalled") c.stalled += 1;
      if (entry.event === "completed") c.completed += 1;
      count.set(id, c);
    }
    let retried = 0;
    for (const runId of runIds) {
      for (const step of WORKFLOW.steps) {
        const c = count.get(`run.${runId}.${step.step_id}`);
        expect(c, `${runId}.${step.step_id}`).toBeDefined();
        expect(c?.added, `${runId}.${step.step_id} enqueued`).toBe(1);
        expect(c?.completed, `${runId}.${step.step_id} completed`).toBe(1);
        if (c?.stalled === 0) expect(c.active, `${runId}.${step.step_id} started`).toBe(1);
        else retried += 1;
      }
    }
    report({
      scenario: "workflow runs: coordinators + workers SIGKILLed",
      operations: RUNS * WORKFLOW.steps.length,
      faults_injected: kills,
      tasks_accepted: RUNS,
      tasks_completed: right.length,
      lost: RUNS - right.length,
      duplicates: retried,
      violations: 0,
    });
    // Retries happen only for tasks a killed worker held; far fewer than all steps.
    expect(retried).toBeLessThan(RUNS * 10);
  });
});
