import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, OPERATOR_KEY, type Stack, startStack, waitForTask } from "./helpers/stack.js";
import { waitFor } from "./helpers/wait.js";

/** Bull Board at /admin/queues: admin only, and its retry/clean actions act on the real queues. */
describe("Bull Board", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ config: { agents: { mock: { type: "mock" } } } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const board = (method: string, path: string, auth: Record<string, string> = { authorization: `Bearer ${ADMIN_KEY}` }) =>
    fetch(`${stack.url}/admin/queues${path}`, { method, headers: { accept: "application/json", ...auth } });

  async function failedTask(): Promise<string> {
    const task = await stack.operator.post("/api/v1/tasks", {
      agent_name: "mock",
      tool_name: "fail",
      arguments: { message: "boom" },
      max_attempts: 1,
    });
    expect((await waitForTask(stack.viewer, task.body.task_id)).status).toBe("failed");
    return task.body.task_id;
  }

  it("refuses non-admins and lists every queue for admins", async () => {
    expect((await board("GET", "/api/queues", {})).status).toBe(401);
    expect((await board("GET", "/api/queues", { authorization: `Bearer ${OPERATOR_KEY}` })).status).toBe(403);
    const html = await fetch(`${stack.url}/admin/queues`, { redirect: "manual", headers: { accept: "text/html" } });
    expect(html.status).toBe(303);
    expect(html.headers.get("location")).toMatch(/^\/admin\/login\?next=/);
    const listed = await board("GET", "/api/queues");
    expect(listed.status).toBe(200);
    const names = ((await listed.json()) as { queues: Array<{ name: string }> }).queues.map((q) => q.name);
    expect(names).toEqual(expect.arrayContaining(["agent.mock", "coordinator"]));
  });

  it("a login sets a session cookie that opens the board", async () => {
    const login = await fetch(`${stack.url}/admin/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ key: ADMIN_KEY, next: "/admin/queues" }).toString(),
    });
    expect(login.status).toBe(303);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] as string;
    expect(cookie).toMatch(/^sy_admin=/);
    expect((await board("GET", "/api/queues", { cookie })).status).toBe(200);
    const page = await fetch(`${stack.url}/admin/queues`, { headers: { cookie, accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<html");
  });

  it("retry-all puts failed jobs back to work", async () => {
    const id = await failedTask();
    const before = (await stack.viewer.get(`/api/v1/tasks/${id}`)).body;
    const retried = await board("PUT", "/api/queues/agent.mock/retry/failed");
    expect(retried.status).toBe(200);
    // The job runs again (and fails again: the tool always fails): a later finish time.
    const after = await waitFor(
      async () => {
        const { body } = await stack.viewer.get(`/api/v1/tasks/${id}`);
        return body.status === "failed" && body.finished_at !== before.finished_at ? body : undefined;
      },
      { what: "the retried job to finish again" },
    );
    expect(Date.parse(after.finished_at)).toBeGreaterThan(Date.parse(before.finished_at));
  });

  it("clean removes failed jobs (older than Bull Board's 5 s grace)", async () => {
    const id = await failedTask();
    // Bull Board cleans only jobs finished more than 5 s ago: keep asking until it does.
    await waitFor(
      async () => {
        const cleaned = await board("PUT", "/api/queues/agent.mock/clean/failed");
        expect(cleaned.status).toBe(200);
        return (await stack.viewer.get(`/api/v1/tasks/${id}`)).status === 404 ? true : undefined;
      },
      { what: "the failed job to be cleaned", timeoutMs: 15_000, intervalMs: 500 },
    );
    const counts = await board("GET", "/api/queues");
    const mock = ((await counts.json()) as { queues: Array<{ name: string; counts: Record<string, number> }> }).queues.find(
      (q) => q.name === "agent.mock",
    );
    expect(mock?.counts.failed).toBe(0);
  }, 20_000);
});
