import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliProcess } from "../helpers/cli.js";
import type { ApiClient } from "../helpers/http.js";
import { FIXTURE_SERVER } from "../helpers/mcp.js";
import { redisUrl } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";
import { inParallel, startApi, startWorker, stop, writeClusterConfig } from "./cluster.js";
import { report } from "./report.js";

const FINAL = new Set(["completed", "failed", "cancelled"]);

/**
 * A stdio MCP server (test/fixtures) that crashes mid-call, hangs (stops answering, pings
 * included) and writes garbage to stdout, under a real worker process, while a second agent on
 * its own server keeps serving: faults fail their call cleanly, the server is restarted, other
 * tools keep working.
 */
describe("stdio MCP server faults under a real worker", () => {
  let api: { process: CliProcess; url: string; client: ApiClient };
  let worker: CliProcess;

  beforeAll(async () => {
    const server = (extra: Record<string, unknown> = {}) => ({
      type: "mcp",
      transport: "stdio",
      command: process.execPath,
      args: [FIXTURE_SERVER, "--faults"],
      ping_interval_ms: 300,
      ping_timeout_ms: 500,
      restart_backoff_ms: 50,
      restart_backoff_max_ms: 200,
      circuit_failure_threshold: 100,
      concurrency: 4,
      ...extra,
    });
    const { file } = writeClusterConfig({
      agents: { fx: server(), steady: server() },
      limits: { max_attempts: 1, task_timeout_ms: 5_000 },
    });
    [api, worker] = await Promise.all([startApi(file, redisUrl()), startWorker(file, redisUrl())]);
    await waitFor(async () => (await api.client.get("/api/v1/tools/fx/echo")).status === 200, { what: "fx tools", timeoutMs: 20_000 });
  });
  afterAll(async () => {
    await Promise.all([api && stop(api.process), worker && stop(worker)]);
  });

  async function run(agent: string, tool: string, args: Record<string, unknown> = {}): Promise<any> {
    const r = await api.client.post("/api/v1/tasks", { agent_name: agent, tool_name: tool, arguments: args });
    expect(r.status).toBe(201);
    return waitFor(
      async () => {
        const t = await api.client.get(`/api/v1/tasks/${r.body.task_id}`);
        return FINAL.has(t.body?.status) ? t.body : undefined;
      },
      { what: `${agent}.${tool} to finish`, timeoutMs: 20_000, intervalMs: 50 },
    );
  }

  it("crash, hang and garbage fail cleanly, the server comes back, the other agent never notices", async () => {
    let accepted = 0;
    let completed = 0;
    let failedAsExpected = 0;
    const violations: string[] = [];
    const ROUNDS = 3;
    // The steady agent serves throughout.
    let steadyRunning = true;
    const steady = (async () => {
      const results: string[] = [];
      while (steadyRunning) {
        const batch = await inParallel(4, 4, (i) => run("steady", "echo", { text: `s${i}` }));
        accepted += batch.length;
        for (const t of batch) {
          results.push(t.status);
          if (t.status === "completed") completed++;
          else violations.push(`steady echo ${t.status} ${JSON.stringify(t.error)}`);
        }
      }
      return results;
    })();
    for (let round = 0; round < ROUNDS; round++) {
      for (const fault of ["crash", "hang", "garbage"] as const) {
        const t = await run("fx", fault);
        accepted++;
        if (fault === "garbage") {
          // Garbage lines on stdout are skipped: the call still answers.
          if (t.status === "completed") completed++;
          else violations.push(`garbage → ${t.status} ${JSON.stringify(t.error)}`);
        } else if (t.status === "failed" && typeof t.error?.code === "string" && typeof t.error?.message === "string") failedAsExpected++;
        else violations.push(`${fault} → ${t.status} ${JSON.stringify(t.error)}`);
        // The server is back: the next call on the same agent works.
        const after = await run("fx", "echo", { text: `after ${fault}` });
        accepted++;
        if (after.status === "completed" && JSON.stringify(after.result).includes(`after ${fault}`)) completed++;
        else violations.push(`echo after ${fault} → ${after.status} ${JSON.stringify(after.error)}`);
      }
    }
    steadyRunning = false;
    await steady;
    const lost = accepted - completed - failedAsExpected - violations.length;
    report({
      scenario: "stdio MCP server crash / hang / garbage",
      operations: accepted,
      faults_injected: ROUNDS * 3,
      tasks_accepted: accepted,
      tasks_completed: completed,
      lost,
      violations: violations.length,
      failed_cleanly: failedAsExpected,
    });
    expect(violations).toEqual([]);
    expect(lost).toBe(0);
    expect(failedAsExpected).toBe(ROUNDS * 2);
  });
});
