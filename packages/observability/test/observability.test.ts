import { Writable } from "node:stream";
import { createLogger, readinessReport, SwitchyardMetrics, startOpsServer, withLogContext } from "@switchyard/observability";
import { describe, expect, it } from "vitest";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ level: "debug", destination: stream }) };
}

describe("logger", () => {
  it("redacts secrets by path: keys, tokens, auth headers, cookies", () => {
    const { lines, logger } = capture();
    logger.info(
      {
        api_key: "sk-live-1",
        agent: { api_key: "sk-live-2", auth_token: "tok-3", headers: { "x-secret": "h-4" } },
        req: { headers: { authorization: "Bearer sy_5", cookie: "sy_admin=6" } },
        config: { headers: { authorization: "Bearer 7" } },
        password: "pw-8",
        kept: "visible",
      },
      "with secrets",
    );
    const text = JSON.stringify(lines);
    for (const secret of ["sk-live-1", "sk-live-2", "tok-3", "h-4", "sy_5", "sy_admin=6", "Bearer 7", "pw-8"])
      expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({ kept: "visible", api_key: "[redacted]", level: "info", msg: "with secrets" });
  });

  it("puts request, task and run ids from the async context on every line", async () => {
    const { lines, logger } = capture();
    await withLogContext({ request_id: "req-1" }, async () => {
      logger.info("outer");
      await withLogContext({ task_id: "tsk_1", run_id: "run_1" }, async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        logger.child({ component: "worker" }).warn("inner");
      });
    });
    logger.info("outside");
    expect(lines[0]).toMatchObject({ msg: "outer", request_id: "req-1" });
    expect(lines[1]).toMatchObject({ msg: "inner", request_id: "req-1", task_id: "tsk_1", run_id: "run_1", component: "worker" });
    expect(lines[2]).not.toHaveProperty("request_id");
  });
});

describe("metrics", () => {
  it("helpers record with bounded labels; registries are per instance", async () => {
    const a = new SwitchyardMetrics({ processMetrics: false, defaultLabels: { service: "test" } });
    const b = new SwitchyardMetrics({ processMetrics: false });
    a.recordProviderUsage({ agent: "gpt", model: "gpt-4.1-mini", inputTokens: 100, outputTokens: 20, costUsd: 0.001 });
    a.setCircuitState("gpt", "open");
    a.recordWorkflowRun({ workflow: "digest", outcome: "completed" }, 12);
    a.recordParticipantHeartbeat("claude-1", 1_700_000_000_000);
    const restarts = { value: 0 };
    a.onCollect(() => a.syncTotal(a.mcpRestarts, { agent: "fs" }, restarts.value));
    restarts.value = 2;
    const text = await a.scrape();
    expect(text).toContain('switchyard_provider_tokens_total{agent="gpt",model="gpt-4.1-mini",kind="input",service="test"} 100');
    expect(text).toContain('switchyard_provider_cost_usd_total{agent="gpt",model="gpt-4.1-mini",service="test"} 0.001');
    expect(text).toContain('switchyard_circuit_breaker_state{agent="gpt",service="test"} 2');
    expect(text).toContain('switchyard_workflow_runs_total{workflow="digest",outcome="completed",service="test"} 1');
    expect(text).toContain('switchyard_participant_last_heartbeat_timestamp_seconds{agent="claude-1",service="test"} 1700000000');
    expect(text).toContain('switchyard_mcp_server_restarts_total{agent="fs",service="test"} 2');
    // Running totals only add their growth.
    restarts.value = 3;
    expect(await a.scrape()).toContain('switchyard_mcp_server_restarts_total{agent="fs",service="test"} 3');
    expect(await b.scrape()).not.toContain('agent="gpt"');
  });

  it("the ops server answers /healthz, /readyz (503 with what is wrong) and /metrics", async () => {
    const metrics = new SwitchyardMetrics({ processMetrics: false });
    let redis = "ok";
    const server = await startOpsServer({ metrics, host: "127.0.0.1", port: 0, ready: async () => ({ redis }) });
    try {
      expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: "ok" });
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      redis = "unreachable (connect ECONNREFUSED)";
      const down = await fetch(`${server.url}/readyz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toEqual({ status: "not_ready", checks: { redis: "unreachable (connect ECONNREFUSED)" } });
      const scraped = await fetch(`${server.url}/metrics`);
      expect(scraped.headers.get("content-type")).toContain("text/plain");
      expect(await scraped.text()).toContain("# TYPE switchyard_tasks_total counter");
      expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    } finally {
      await server.close();
    }
    expect(await readinessReport(async () => Promise.reject(new Error("boom")))).toEqual({
      status: "not_ready",
      checks: { readiness: "check failed (boom)" },
    });
  });
});
