import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "./helpers/redis.js";
import { type Stack, startStack } from "./helpers/stack.js";
import { waitFor } from "./helpers/wait.js";
import { define } from "./helpers/workflows.js";

/**
 * Finished runs expire: their state, event stream, context and idempotency keys carry the
 * retention TTL and the tenant's run index is trimmed by age, so Redis holds a flat amount of
 * workflow data however many runs have finished.
 */
describe("workflow retention", () => {
  let stack: Stack;
  const redis = connect();

  beforeAll(async () => {
    stack = await startStack({ config: { agents: { mock: { type: "mock", concurrency: 50 } }, limits: { retention_seconds: 1 } } });
    await define(stack.operator, {
      name: "tiny",
      steps: [
        { step_id: "a", tool: "mock.echo", arguments: { n: "{{ input.n }}" }, context_write: { "last.n": "{{ output.echo.n }}" } },
        { step_id: "b", depends_on: ["a"], tool: "mock.echo" },
      ],
    });
  });
  afterAll(async () => {
    await stack?.close();
    redis.disconnect();
  });

  const countKeys = async (pattern: string) => {
    let cursor = "0";
    let n = 0;
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${stack.prefix}:${pattern}`, "COUNT", 1_000);
      cursor = next;
      n += keys.length;
    } while (cursor !== "0");
    return n;
  };

  /** Starts runs; a run's keys get their TTL only when it finishes, so "all expired" means "all finished". */
  async function batch(size: number, label: string): Promise<void> {
    for (let n = 0; n < size; n += 50)
      await Promise.all(
        Array.from({ length: Math.min(50, size - n) }, async (_, i) => {
          const res = await stack.operator.post(
            "/api/v1/workflows/tiny/runs",
            { input: { n: n + i } },
            { "idempotency-key": `${label}-${n + i}` },
          );
          expect(res.status).toBe(201);
        }),
      );
  }

  it("keeps workflow keys flat over many finished runs", { timeout: 120_000 }, async () => {
    await batch(300, "first");
    // Everything per-run expires once the run has finished and the retention period has passed.
    await waitFor(async () => (await countKeys("wf:run:*")) === 0 && (await countKeys("wf:t:*:ctx:*")) === 0, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: "run keys to expire",
    });
    await batch(300, "second");
    await waitFor(async () => (await countKeys("wf:run:*")) === 0 && (await countKeys("wf:t:*:idem:*")) === 0, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: "second batch to expire",
    });
    // What stays: the definition and the tenants' indexes, trimmed by age at each new run.
    expect(await countKeys("wf:*")).toBeLessThanOrEqual(3);
    expect(await redis.zcard(`${stack.prefix}:wf:t:acme:runs`)).toBeLessThanOrEqual(300);
    // Expired runs read as missing.
    expect((await stack.operator.get("/api/v1/runs?limit=500")).body.runs.length).toBe(0);
  });
});
