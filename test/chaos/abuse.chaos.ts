import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliProcess } from "../helpers/cli.js";
import { type ApiClient, apiClient } from "../helpers/http.js";
import { redisUrl } from "../helpers/redis.js";
import { ADMIN_KEY, OPERATOR_KEY } from "../helpers/stack.js";
import { waitFor } from "../helpers/wait.js";
import { inParallel, startApi, stop, writeClusterConfig } from "./cluster.js";
import { report } from "./report.js";

const RATE = { requests_per_second: 10, burst: 20 };
const SSE_CAP = 3;
const BODY_LIMIT = 16_384;

describe("abuse: body limit, per-key rate limit across two api processes, SSE streams per key", () => {
  const apis: Array<{ process: CliProcess; url: string; client: ApiClient }> = [];

  beforeAll(async () => {
    // No worker: submitted tasks stay queued, so their event streams stay open.
    const { file } = writeClusterConfig({
      auth: {
        keys: [
          { key: ADMIN_KEY, role: "admin", tenant: "abuse" },
          { key: OPERATOR_KEY, role: "operator", tenant: "abuse", rate_limit: RATE },
        ],
      },
      server: { body_limit_bytes: BODY_LIMIT },
      limits: { sse_connections_per_key: SSE_CAP },
      agents: { mock: { type: "mock" } },
    });
    apis.push(...(await Promise.all([startApi(file, redisUrl()), startApi(file, redisUrl())])));
  });
  afterAll(async () => {
    await Promise.all(apis.map((a) => stop(a.process)));
  });

  it("refuses oversized bodies with a JSON 413 on every route family", async () => {
    const big = JSON.stringify({ agent_name: "mock", tool_name: "echo", arguments: { text: "x".repeat(BODY_LIMIT) } });
    let violations = 0;
    let ops = 0;
    for (const api of apis)
      for (const path of ["/api/v1/tasks", "/api/v1/agents", "/api/v1/workflows", "/mcp", "/api/v1/tools/execute"]) {
        const r = await api.client.post(path, big, path === "/mcp" ? { accept: "application/json, text/event-stream" } : {});
        ops++;
        if (r.status !== 413 || r.body?.error_code !== "PAYLOAD_TOO_LARGE") {
          violations++;
          process.stdout.write(`violation: ${path} with ${big.length} bytes → ${r.status} ${JSON.stringify(r.body).slice(0, 120)}\n`);
        }
      }
    // Just under the limit is fine.
    const fits = await apis[0]?.client.post("/api/v1/tasks", {
      agent_name: "mock",
      tool_name: "echo",
      arguments: { text: "x".repeat(1_000) },
    });
    expect(fits?.status).toBe(201);
    report({ scenario: "abuse: request body limit", operations: ops, violations });
    expect(violations).toBe(0);
  });

  it("one key's rate limit holds across two api processes", async () => {
    const clients = apis.map((a) => apiClient(a.url, OPERATOR_KEY));
    const started = Date.now();
    const statuses = await inParallel(300, 20, (i) => (clients[i % 2] as ApiClient).get("/api/v1/tasks?limit=1").then((r) => r.status));
    const elapsedS = (Date.now() - started) / 1000;
    const ok = statuses.filter((s) => s === 200).length;
    const limited = statuses.filter((s) => s === 429).length;
    // Both processes draw from one bucket in Redis: at most burst + rate × elapsed succeed in total.
    const allowed = RATE.burst + Math.ceil(RATE.requests_per_second * (elapsedS + 1));
    const overshoot = Math.max(0, ok - allowed);
    report({
      scenario: "abuse: per-key rate limit across 2 api processes",
      operations: statuses.length,
      violations: overshoot + statuses.filter((s) => s !== 200 && s !== 429).length,
      accepted: ok,
      limited,
      allowed_at_most: allowed,
    });
    expect(ok).toBeGreaterThanOrEqual(RATE.burst);
    expect(ok).toBeLessThanOrEqual(allowed);
    expect(limited).toBe(statuses.length - ok);
    // The other key is not throttled by it.
    expect((await apis[1]?.client.get("/api/v1/tasks?limit=1"))?.status).toBe(200);
  });

  it("caps concurrent event streams per key (429 over it) and frees a slot when one closes", async () => {
    const submitted = await apis[0]?.client.post("/api/v1/tasks", { agent_name: "mock", tool_name: "echo", arguments: {} });
    expect(submitted?.status).toBe(201);
    const url = `${apis[0]?.url}/api/v1/tasks/${submitted?.body.task_id}/events`;
    const open = async () => {
      const controller = new AbortController();
      const response = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_KEY}` }, signal: controller.signal });
      return { response, close: () => controller.abort() };
    };
    const streams = [];
    for (let i = 0; i < SSE_CAP; i++) streams.push(await open());
    const over = await open();
    const overBody = (await over.response.json()) as { error_code?: string };
    let violations = 0;
    if (!streams.every((s) => s.response.status === 200)) violations++;
    if (over.response.status !== 429 || overBody.error_code !== "RATE_LIMITED") violations++;
    // Closing one frees its slot.
    streams.shift()?.close();
    // The server notices the close asynchronously: poll until a new stream is admitted.
    const reopened = await waitFor(
      async () => {
        const attempt = await open();
        if (attempt.response.status === 200) return attempt;
        attempt.close();
        return undefined;
      },
      { what: "a freed SSE slot", timeoutMs: 5_000 },
    );
    for (const s of [...streams, reopened]) s?.close();
    report({ scenario: "abuse: SSE streams per key", operations: SSE_CAP + 2, violations });
    expect(violations).toBe(0);
  });
});
