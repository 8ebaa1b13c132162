import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiClient, apiClient } from "./helpers/http.js";
import { OPERATOR_KEY, type Stack, startStack } from "./helpers/stack.js";
import { waitFor } from "./helpers/wait.js";

const SETTINGS = {
  heartbeat_ttl_ms: 600,
  offline_grace_ms: 200,
  sweep_every_ms: 100,
  max_claimed_tasks: 2,
  max_messages_per_minute: 5,
  message_redeliver_after_ms: 300,
  key_cache_ms: 100,
};

describe("participant agents over REST", () => {
  let stack: Stack;
  const call = async (client: ApiClient, tool: string, body: unknown = {}) => client.post(`/api/v1/participants/${tool}`, body);

  /** Registers an agent with the operator key; returns a client authenticated as the agent. */
  async function register(id: string, extra: Record<string, unknown> = {}): Promise<ApiClient> {
    const { status, body } = await call(stack.operator, "register_agent", { id, ...extra });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.api_key).toMatch(/^syp_/);
    expect(body.agent).not.toHaveProperty("key_hash");
    return apiClient(stack.url, body.api_key);
  }

  beforeAll(async () => {
    stack = await startStack({ worker: false, config: { agents: { mock: { type: "mock" } }, participants: SETTINGS } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("issues each agent its own key; an agent cannot act as another", async () => {
    const alice = await register("alice", { capabilities: ["code"], role: "coder", group: "g1" });
    const bob = await register("bob", { capabilities: ["review"] });
    // The key works at once and names its agent.
    expect((await call(alice, "heartbeat", { status: "working" })).body).toMatchObject({ id: "alice", status: "working" });
    expect((await stack.anonymous.get("/metrics")).body).toMatch(/switchyard_participant_heartbeats_total\{agent="alice"[^}]*\} 1/);
    // Registering (or deregistering) someone else with an agent key is refused.
    expect((await call(alice, "register_agent", { id: "bob" })).status).toBe(403);
    expect((await call(alice, "deregister_agent", { id: "bob" })).status).toBe(403);
    // Acting-as-self operations take no id from the body.
    expect((await call(alice, "heartbeat", { id: "bob" })).status).toBe(400);
    // A tenant key is not an agent: it cannot claim or lock.
    expect((await call(stack.operator, "claim_task")).body.error_code).toBe("FORBIDDEN");
    // A wrong participant key is a 401.
    expect((await call(apiClient(stack.url, "syp_not-a-real-key"), "heartbeat")).status).toBe(401);
    // Another tenant cannot see them.
    expect((await call(stack.otherTenant, "find_agents")).body.agents).toEqual([]);
    const found = await call(stack.viewer, "find_agents", { capabilities: ["code"], group: "g1", active_within_seconds: 60 });
    expect(found.body.agents.map((a: any) => a.id)).toEqual(["alice"]);
    expect((await call(bob, "find_agents", { role: "coder" })).body.agents.map((a: any) => a.id)).toEqual(["alice"]);
    // Re-registering rotates the key: the old one stops working.
    const rotated = await register("bob", { capabilities: ["review"] });
    await waitFor(async () => (await call(bob, "heartbeat")).status === 401, { what: "old key revoked" });
    expect((await call(rotated, "heartbeat")).status).toBe(200);
    // Deregistering revokes the key.
    expect((await call(rotated, "deregister_agent")).body).toMatchObject({ id: "bob", deregistered: true });
    expect((await call(rotated, "heartbeat")).status).toBe(401);
  });

  it("serves the same tools on /mcp, where a participant key acts as its own agent", async () => {
    const { body } = await call(stack.operator, "register_agent", { id: "mcp-agent", capabilities: ["mcp"] });
    const mcp = async (key: string) => {
      const client = new Client({ name: "participants-test", version: "1.0.0" });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${stack.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }),
      );
      return client;
    };
    const asAgent = await mcp(body.api_key);
    const asOperator = await mcp(OPERATOR_KEY);
    try {
      const names = (await asAgent.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(["register_agent", "claim_task", "acquire_file_lock", "check_delegation_deadlocks"]));
      const beat = await asAgent.callTool({ name: "heartbeat", arguments: { status: "idle" } });
      expect(beat.structuredContent).toMatchObject({ id: "mcp-agent", status: "idle" });
      const refused = await asOperator.callTool({ name: "claim_task", arguments: {} });
      expect(refused.isError).toBe(true);
      expect(JSON.stringify(refused.content)).toContain("FORBIDDEN");
      const other = await asAgent.callTool({ name: "register_agent", arguments: { id: "someone-else" } });
      expect(other.isError).toBe(true);
    } finally {
      await asAgent.close();
      await asOperator.close();
    }
  });

  it("describes every participant tool in the OpenAPI document", async () => {
    const doc = (await stack.anonymous.get("/api/v1/openapi.json")).body;
    const op = doc.paths["/api/v1/participants/acquire_file_lock"]?.post ?? doc.paths["/participants/acquire_file_lock"]?.post;
    expect(op).toMatchObject({ operationId: "acquire_file_lock", tags: ["Participants"], "x-switchyard-role": "operator" });
    expect(JSON.stringify(op.requestBody)).toContain("wait_ms");
  });

  it("delegates, claims by name or capability, and only the claimer reports", async () => {
    const lead = await register("lead", { capabilities: ["plan"] });
    const coder = await register("coder", { capabilities: ["code", "ts"] });
    const other = await register("other", { capabilities: ["docs"] });
    const parent = (await call(stack.operator, "delegate_subtask", { title: "job", assignee: "lead" })).body;
    expect(parent.status).toBe("pending");
    // Nobody but the assignee gets a named task.
    expect((await call(coder, "claim_task")).body.task).toBeNull();
    const claimed = (await call(lead, "claim_task", { wait_ms: 1_000 })).body.task;
    expect(claimed).toMatchObject({ task_id: parent.task_id, status: "claimed", claimed_by: "lead" });

    const sub = (
      await call(lead, "delegate_subtask", {
        title: "write code",
        capabilities: ["code"],
        parent_task_id: parent.task_id,
        input: { file: "a.ts" },
      })
    ).body;
    expect(sub.delegated_by).toBe("lead");
    expect((await call(other, "claim_task")).body.task).toBeNull(); // lacks `code`
    // A long-poll is answered as soon as a task arrives.
    const waiting = call(coder, "claim_task", { wait_ms: 5_000 });
    const got = (await waiting).body.task;
    expect(got).toMatchObject({ task_id: sub.task_id, input: { file: "a.ts" }, claimed_by: "coder" });
    expect((await call(other, "complete_task", { task_id: sub.task_id })).body.error_code).toBe("CONFLICT");
    expect((await call(coder, "complete_task", { task_id: sub.task_id, result: { lines: 3 } })).body).toMatchObject({
      status: "completed",
      result: { lines: 3 },
    });
    const view = (await call(stack.viewer, "get_participant_task", { task_id: parent.task_id })).body;
    expect(view.children).toEqual([{ task_id: sub.task_id, status: "completed" }]);
    expect((await call(lead, "fail_task", { task_id: parent.task_id, error: { message: "nope" } })).body.status).toBe("failed");
  });

  it("caps the tasks an agent holds", async () => {
    const busy = await register("busy", { capabilities: ["grind"] });
    for (let i = 0; i < 3; i++) await call(stack.operator, "delegate_subtask", { title: `t${i}`, capabilities: ["grind"] });
    expect((await call(busy, "claim_task")).body.task).not.toBeNull();
    expect((await call(busy, "claim_task")).body.task).not.toBeNull();
    const third = await call(busy, "claim_task");
    expect(third.status).toBe(429);
    expect(third.body.error_code).toBe("RATE_LIMITED");
  });

  it("normalizes lock paths, refuses traversal and non-owners", async () => {
    const a = await register("locker-a");
    const b = await register("locker-b");
    const taken = await call(a, "acquire_file_lock", { path: "src/x/../main.ts", ttl_ms: 5_000 });
    expect(taken.body).toMatchObject({ path: "src/main.ts", held: true, owner: "locker-a" });
    const busy = await call(b, "acquire_file_lock", { path: "./src/main.ts" });
    expect(busy.status).toBe(409);
    expect(busy.body.details.owner).toBe("locker-a");
    expect((await call(b, "release_file_lock", { path: "src/main.ts" })).status).toBe(403);
    expect((await call(b, "renew_file_lock", { path: "src/main.ts" })).status).toBe(403);
    expect((await call(a, "acquire_file_lock", { path: "../etc/passwd" })).status).toBe(400);
    expect((await call(a, "acquire_file_lock", { path: "src/../../x" })).status).toBe(400);
    expect((await call(stack.viewer, "check_file_lock", { path: "/src/main.ts" })).body.owner).toBe("locker-a");
    expect((await call(a, "renew_file_lock", { path: "src/main.ts", token: taken.body.token, ttl_ms: 9_000 })).body.held).toBe(true);
    expect((await call(a, "release_file_lock", { path: "src//main.ts", token: taken.body.token })).body.held).toBe(false);
    const next = await call(b, "acquire_file_lock", { path: "src/main.ts" });
    expect(BigInt(next.body.token)).toBeGreaterThan(BigInt(taken.body.token));
  });

  it("throttles a flooding sender with 429 and logs an event", async () => {
    const loud = await register("loud");
    await register("quiet");
    for (let i = 0; i < SETTINGS.max_messages_per_minute; i++)
      expect((await call(loud, "send_message", { to: "quiet", body: { i } })).status).toBe(200);
    const refused = await call(loud, "send_message", { to: "quiet", body: "one too many" });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await call(loud, "check_message_frequency")).body).toMatchObject({ count: 5, limit: 5, throttled: true });
    const events = (await call(stack.viewer, "list_coordination_events", { limit: 1000 })).body.events;
    expect(events.some((e: any) => e.type === "message.flooding" && e.data.agent_id === "loud")).toBe(true);
    expect(stack.logs.text()).toContain("message.flooding");
    const recipients = (await call(loud, "check_message_recipient_status")).body;
    expect(recipients.recipients).toEqual([expect.objectContaining({ agent_id: "quiet", status: "available", unread: 5 })]);
  });

  it("collaboration sessions fan out to participants; evaluations are stored per agent", async () => {
    const c1 = await register("c1");
    const c2 = await register("c2");
    const session = (
      await call(c1, "create_collaboration_session", { title: "design", participants: ["c1", "c2"], context: { repo: "r" } })
    ).body;
    expect(session.coordinator).toBe("c1");
    expect((await call(c1, "send_message", { session_id: session.session_id, body: "hi all" })).body.recipients).toEqual(["c2"]);
    const inbox = (await call(c2, "read_messages", { wait_ms: 1_000 })).body.messages;
    expect(inbox).toEqual([expect.objectContaining({ from: "c1", body: "hi all", session_id: session.session_id, deliveries: 1 })]);
    const thread = (await call(stack.viewer, "get_collaboration_session", { session_id: session.session_id })).body.thread;
    expect(thread.map((m: any) => m.body)).toEqual(["hi all"]);
    await call(c1, "evaluate_contribution", { agent_id: "c2", scores: { quality: 8 }, comments: "good" });
    await call(stack.operator, "evaluate_contribution", { agent_id: "c2", scores: { quality: 6 } });
    expect((await call(c2, "evaluate_contribution", { agent_id: "c2", scores: { quality: 10 } })).status).toBe(403);
    const evals = (await call(stack.viewer, "list_evaluations", { agent_id: "c2" })).body;
    expect(evals.averages).toEqual({ quality: 7 });
    expect(evals.evaluations).toHaveLength(2);
    const help = (await call(c2, "request_assistance", { capabilities: [], to: "c1", subject: "stuck", urgency: "high" })).body;
    expect(help.recipients).toEqual(["c1"]);
  });

  it("detects a delegation cycle (A waits on B waits on A)", async () => {
    const a = await register("dl-a", { capabilities: ["x"] });
    const b = await register("dl-b", { capabilities: ["x"] });
    await call(stack.operator, "delegate_subtask", { title: "root", assignee: "dl-a" });
    const ta = (await call(a, "claim_task")).body.task;
    const tb = (await call(a, "delegate_subtask", { title: "b's part", assignee: "dl-b", parent_task_id: ta.task_id })).body;
    expect((await call(stack.viewer, "check_delegation_deadlocks")).body.deadlocked).toBe(false);
    await call(b, "claim_task");
    await call(b, "delegate_subtask", { title: "a's part", assignee: "dl-a", parent_task_id: tb.task_id });
    const report = (await call(stack.viewer, "check_delegation_deadlocks")).body;
    expect(report.deadlocked).toBe(true);
    expect(report.deadlocks[0].agents).toEqual(["dl-a", "dl-b", "dl-a"]);
    const events = (await call(stack.viewer, "list_coordination_events", { limit: 1000 })).body.events;
    expect(events.some((e: any) => e.type === "delegation.deadlock")).toBe(true);
  });

  it("rolls goal progress up from linked tasks into the project", async () => {
    const worker = await register("goal-worker", { capabilities: ["g"] });
    const project = (await call(stack.operator, "create_project", { name: "launch" })).body;
    const goal = (await call(stack.operator, "create_goal", { title: "ship", project_id: project.project_id })).body;
    const t1 = (await call(stack.operator, "delegate_subtask", { title: "one", capabilities: ["g"] })).body;
    const t2 = (await call(stack.operator, "delegate_subtask", { title: "two", capabilities: ["g"] })).body;
    for (const t of [t1, t2])
      await call(stack.operator, "link_to_goal", { goal_id: goal.goal_id, kind: "participant_task", id: t.task_id });
    const first = (await call(worker, "claim_task")).body.task;
    await call(worker, "complete_task", { task_id: first.task_id });
    const view = (await call(stack.viewer, "get_goal", { goal_id: goal.goal_id })).body;
    expect(view.progress).toMatchObject({ total: 2, completed: 1, active: 1, ratio: 0.5 });
    // Links the api cannot resolve count as unknown, not as done.
    const other = (await call(stack.operator, "create_goal", { title: "elsewhere" })).body;
    await call(stack.operator, "link_to_goal", { goal_id: other.goal_id, kind: "task", id: "tsk_missing" });
    const unknown = (await call(stack.operator, "link_to_goal", { goal_id: other.goal_id, kind: "run", id: "run_missing" })).body;
    expect(unknown.progress).toMatchObject({ total: 2, unknown: 2, ratio: 0 });
    expect((await call(stack.operator, "update_goal_status", { goal_id: goal.goal_id, status: "in_progress" })).body.status).toBe(
      "in_progress",
    );
    const projects = (await call(stack.viewer, "list_projects")).body.projects;
    expect(projects[0]).toMatchObject({ project_id: project.project_id, goals: 1, progress: { ratio: 0.5 } });
    expect((await call(stack.viewer, "list_goals", { project_id: project.project_id })).body.goals).toHaveLength(1);
    expect((await call(stack.operator, "update_project_status", { project_id: project.project_id, status: "paused" })).body.status).toBe(
      "paused",
    );
  });

  it("an agent whose heartbeat lapses turns offline and its named task is re-delegated", async () => {
    // A fresh stack: agents of the other tests lapse too, and their work would be re-delegated.
    await stack.close();
    stack = await startStack({ worker: false, config: { agents: { mock: { type: "mock" } }, participants: SETTINGS } });
    const gone = await register("gone", { capabilities: ["fix"] });
    const live = await register("live", { capabilities: ["fix"] });
    const task = (await call(stack.operator, "delegate_subtask", { title: "fix it", assignee: "gone", capabilities: ["fix"] })).body;
    expect((await call(gone, "claim_task")).body.task.task_id).toBe(task.task_id);
    // `live` keeps heartbeating; `gone` stops.
    const beat = setInterval(() => void call(live, "heartbeat").catch(() => {}), 150);
    try {
      const taken = await waitFor(
        async () => {
          const got = (await call(live, "claim_task")).body.task;
          return got ?? undefined;
        },
        { what: "re-delegated task", timeoutMs: 10_000, intervalMs: 100 },
      );
      expect(taken).toMatchObject({ task_id: task.task_id, assignee: "live", claimed_by: "live", attempts: 2 });
    } finally {
      clearInterval(beat);
    }
    const status = (await call(stack.viewer, "find_agents", { statuses: ["offline"] })).body.agents.map((a: any) => a.id);
    expect(status).toContain("gone");
    expect((await call(gone, "complete_task", { task_id: task.task_id })).body.error_code).toBe("CONFLICT");
    const types = (await call(stack.viewer, "list_coordination_events", { limit: 1000 })).body.events.map((e: any) => e.type);
    expect(types).toEqual(expect.arrayContaining(["agent.offline", "task.redelegated"]));
    expect(
      (await call(stack.viewer, "check_agent_responsiveness", { threshold_seconds: 30 })).body.unresponsive.map((a: any) => a.agent_id),
    ).toContain("gone");
  });
});
