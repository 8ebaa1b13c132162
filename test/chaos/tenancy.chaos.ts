import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiClient, apiClient } from "../helpers/http.js";
import { readSse } from "../helpers/sse.js";
import { ADMIN_KEY, OTHER_TENANT_KEY, type Stack, startStack } from "../helpers/stack.js";
import { define, startRun, waitForRun } from "../helpers/workflows.js";
import { report } from "./report.js";

/** Same workflow name in both tenants: each must only ever see its own. */
const WORKFLOW = (marker: string) => ({
  name: "shared-name",
  steps: [
    { step_id: "a", tool: "mock.echo", arguments: { marker } },
    { step_id: "b", depends_on: ["a"], tool: "mock.sleep", arguments: { ms: 100 } },
  ],
});

describe("tenancy: two tenants, every resource, no crossing", () => {
  let stack: Stack;
  let tenants: Array<{ name: string; key: string; client: ApiClient; tasks: string[]; runs: string[]; keyId: string; marker: string }>;

  beforeAll(async () => {
    stack = await startStack({ config: { agents: { mock: { type: "mock", concurrency: 20 } } } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("no read, list, cancel, event stream, audit, usage or key of one tenant shows the other's data", async () => {
    tenants = [
      { name: "acme", key: ADMIN_KEY, client: stack.admin, tasks: [], runs: [], keyId: "", marker: "acme-marker-7f1" },
      { name: "globex", key: OTHER_TENANT_KEY, client: stack.otherTenant, tasks: [], runs: [], keyId: "", marker: "globex-marker-2c9" },
    ];
    // Each tenant: tasks (one with the SAME idempotency key as the other tenant's), a slow one to
    // cancel, a workflow of the same name, a run with context, an API key.
    for (const t of tenants) {
      for (let i = 0; i < 5; i++) {
        const r = await t.client.post("/api/v1/tasks", { agent_name: "mock", tool_name: "echo", arguments: { marker: t.marker, i } });
        expect(r.status).toBe(201);
        t.tasks.push(r.body.task_id);
      }
      const idem = await t.client.post(
        "/api/v1/tasks",
        { agent_name: "mock", tool_name: "echo", arguments: { marker: t.marker } },
        { "idempotency-key": "same-key-in-both-tenants" },
      );
      expect(idem.status).toBe(201);
      t.tasks.push(idem.body.task_id);
      const slow = await t.client.post("/api/v1/tasks", {
        agent_name: "mock",
        tool_name: "sleep",
        arguments: { ms: 4_000 },
      });
      expect(slow.status).toBe(201);
      t.tasks.push(slow.body.task_id);
      await define(t.client, WORKFLOW(t.marker));
      t.runs.push(await startRun(t.client, "shared-name", { marker: t.marker }));
      const key = await t.client.post("/api/v1/keys", { role: "viewer", name: `${t.marker}-key` });
      expect(key.status).toBe(201);
      t.keyId = key.body.id;
    }
    const [acme, globex] = tenants as [(typeof tenants)[0], (typeof tenants)[0]];
    // The same idempotency key in two tenants made two tasks, not one shared.
    expect(acme.tasks[5]).not.toBe(globex.tasks[5]);

    let checks = 0;
    const violations: string[] = [];
    const expectNotFound = async (what: string, r: Promise<{ status: number; body: unknown }>) => {
      const got = await r;
      checks++;
      if (got.status !== 404) violations.push(`${what} → ${got.status} ${JSON.stringify(got.body).slice(0, 150)}`);
    };
    const expectAbsent = async (what: string, r: Promise<{ status: number; body: unknown }>, foreign: string[]) => {
      const got = await r;
      checks++;
      const text = JSON.stringify(got.body);
      for (const f of foreign) if (text.includes(f)) violations.push(`${what} shows ${f}`);
    };

    // Lists first (afterwards a tenant's own audit trail rightly records the foreign ids it tried).
    for (const [me, other] of [
      [acme, globex],
      [globex, acme],
    ] as const) {
      const foreign = [other.marker, ...other.tasks, ...other.runs, other.keyId];
      const c = me.client;
      for (const path of [
        "/api/v1/tasks",
        "/api/v1/tasks?limit=500",
        "/api/v1/runs",
        "/api/v1/workflows",
        "/api/v1/workflows/shared-name",
        "/api/v1/audit",
        "/api/v1/usage",
        "/api/v1/keys",
      ])
        await expectAbsent(`${me.name} ${path}`, c.get(path), foreign);
    }
    for (const [me, other] of [
      [acme, globex],
      [globex, acme],
    ] as const) {
      const c = me.client;
      for (const id of other.tasks) {
        await expectNotFound(`${me.name} GET task of ${other.name}`, c.get(`/api/v1/tasks/${id}`));
        await expectNotFound(`${me.name} GET events of ${other.name}'s task`, c.get(`/api/v1/tasks/${id}/events`));
      }
      await expectNotFound(`${me.name} cancel ${other.name}'s slow task`, c.post(`/api/v1/tasks/${other.tasks[6]}/cancel`, {}));
      for (const id of other.runs) {
        await expectNotFound(`${me.name} GET run`, c.get(`/api/v1/runs/${id}`));
        await expectNotFound(`${me.name} GET run context`, c.get(`/api/v1/runs/${id}/context`));
        await expectNotFound(`${me.name} GET run events`, c.get(`/api/v1/runs/${id}/events`));
        await expectNotFound(`${me.name} cancel run`, c.post(`/api/v1/runs/${id}/cancel`, {}));
        await expectNotFound(`${me.name} approve a step`, c.post(`/api/v1/runs/${id}/steps/a/approve`, {}));
      }
      await expectNotFound(`${me.name} revoke ${other.name}'s key`, c.delete(`/api/v1/keys/${other.keyId}`));
      // MCP: the orchestration tools see the caller's tenant only.
      for (const id of other.tasks.slice(0, 2)) {
        const r = await fetch(`${stack.url}/mcp`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${me.key}`,
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
          },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "get_task", arguments: { task_id: id } } }),
        });
        checks++;
        const text = await r.text();
        if (text.includes(other.marker)) violations.push(`${me.name} get_task over /mcp shows ${other.name}'s task`);
      }
    }

    // Both tenants' own work is untouched: the slow tasks still run (not cancelled by the other), runs complete.
    for (const t of tenants) {
      const slow = await t.client.get(`/api/v1/tasks/${t.tasks[6]}`);
      expect(slow.body.status).not.toBe("cancelled");
      expect((await waitForRun(t.client, t.runs[0] as string)).status).toBe("completed");
      const ctx = await t.client.get(`/api/v1/runs/${t.runs[0]}`);
      expect(JSON.stringify(ctx.body)).toContain(t.marker);
      // The event stream of one's own task works and shows only one's own data.
      const events = await readSse(`${stack.url}/api/v1/tasks/${t.tasks[0]}/events`, t.key);
      checks++;
      expect(events.events.length).toBeGreaterThan(0);
      if (JSON.stringify(events.events).includes(t === acme ? globex.marker : acme.marker))
        violations.push(`${t.name}'s event stream shows the other tenant`);
      // The key revoked by the other tenant was not revoked.
      expect(JSON.stringify((await t.client.get("/api/v1/keys")).body)).toContain(t.keyId);
    }
    report({
      scenario: "tenancy (tasks, runs, contexts, events, audit, usage, keys, idempotency, /mcp)",
      operations: checks,
      violations: violations.length,
    });
    expect(violations).toEqual([]);
  });

  it("participants: agents, delegated tasks, messages and locks of the same names stay within their tenant", async () => {
    const call = (client: ApiClient, tool: string, body: unknown = {}) => client.post(`/api/v1/participants/${tool}`, body);
    const sides = [
      { name: "acme", client: stack.admin, marker: "acme-p-marker-51a" },
      { name: "globex", client: stack.otherTenant, marker: "globex-p-marker-9e4" },
    ].map((t) => ({ ...t, self: undefined as unknown as ApiClient, peer: undefined as unknown as ApiClient, taskId: "", lockToken: "" }));
    for (const t of sides) {
      // The same agent ids, the same lock path, in both tenants.
      const self = await call(t.client, "register_agent", { id: "same-agent", capabilities: ["x"] });
      const peer = await call(t.client, "register_agent", { id: "same-peer" });
      expect(self.status, JSON.stringify(self.body)).toBe(200);
      t.self = apiClient(stack.url, self.body.api_key);
      t.peer = apiClient(stack.url, peer.body.api_key);
      const lock = await call(t.self, "acquire_file_lock", { path: "src/same.ts", ttl_ms: 30_000 });
      expect(lock.status, `${t.name} lock: ${JSON.stringify(lock.body)}`).toBe(200);
      t.lockToken = lock.body.token;
      const sent = await call(t.peer, "send_message", { to: "same-agent", kind: "note", subject: t.marker, body: t.marker });
      expect(sent.status, JSON.stringify(sent.body)).toBe(200);
      const task = await call(t.client, "delegate_subtask", {
        title: t.marker,
        description: t.marker,
        input: { m: t.marker },
        capabilities: ["x"],
      });
      expect(task.status, JSON.stringify(task.body)).toBe(200);
      t.taskId = task.body.task_id ?? task.body.id ?? task.body.task?.task_id;
    }
    const [a, b] = sides as [(typeof sides)[0], (typeof sides)[0]];
    let checks = 0;
    const violations: string[] = [];
    for (const [me, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const reads: Array<[string, Promise<{ status: number; body: unknown }>]> = [
        ["read_messages", call(me.self, "read_messages", { max: 50, wait_ms: 0 })],
        ["find_agents", call(me.client, "find_agents", {})],
        ["list_participant_tasks", call(me.client, "list_participant_tasks", {})],
        ["check_file_lock", call(me.client, "check_file_lock", { path: "src/same.ts" })],
        ["list_coordination_events", call(me.client, "list_coordination_events", {})],
        ["claim_task", call(me.self, "claim_task", { wait_ms: 0 })],
      ];
      for (const [what, pending] of reads) {
        const r = await pending;
        checks++;
        const text = JSON.stringify(r.body);
        if (text.includes(other.marker) || (other.taskId && text.includes(other.taskId)))
          violations.push(`${me.name} ${what} shows ${other.name}'s data`);
      }
      const foreignTask = await call(me.client, "get_participant_task", { task_id: other.taskId });
      checks++;
      if (foreignTask.status !== 404) violations.push(`${me.name} get_participant_task of ${other.name} → ${foreignTask.status}`);
    }
    // Each tenant's lock is still held by its own agent.
    for (const t of sides) {
      const check = await call(t.client, "check_file_lock", { path: "src/same.ts" });
      checks++;
      if (!JSON.stringify(check.body).includes("same-agent")) violations.push(`${t.name}'s lock was released from outside`);
    }
    for (const v of violations) process.stdout.write(`violation: ${v}\n`);
    report({ scenario: "tenancy: participants, messages, locks", operations: checks, violations: violations.length });
    expect(violations).toEqual([]);
  });
});
