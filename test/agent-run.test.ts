import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeLlmServer, type RecordedRequest, type Reply, startFakeAnthropic, startFakeOpenAI } from "./helpers/llm-servers.js";
import { watchProgress } from "./helpers/progress.js";
import { EVERYTHING_SERVER, type Stack, startStack, waitForTask } from "./helpers/stack.js";
import { waitFor } from "./helpers/wait.js";

/**
 * A scripted model: first turn asks for two tools of the real MCP "everything" server, second turn
 * answers from the results it was given (read from the request, so the results must really have
 * come back through the child tasks).
 */
function scriptedModel(flavor: "openai" | "anthropic") {
  return (req: RecordedRequest): Reply => {
    const results = toolResults(flavor, req.body);
    if (results.length === 0)
      return {
        text: flavor === "anthropic" ? "Let me use the tools." : undefined,
        tool_calls: [
          { id: "call_1", name: "everything__echo", arguments: { message: "hello from the model" } },
          { id: "call_2", name: "everything__get-sum", arguments: { a: 2, b: 40 } },
        ],
        usage: { input: 50, output: 20 },
      };
    return { text: `Done. ${results.join(" | ")}`, usage: { input: 80, output: 10 } };
  };
}

function toolResults(flavor: "openai" | "anthropic", body: any): string[] {
  if (flavor === "openai") return body.messages.filter((m: any) => m.role === "tool").map((m: any) => m.content);
  return body.messages
    .flatMap((m: any) => (Array.isArray(m.content) ? m.content : []))
    .filter((b: any) => b.type === "tool_result")
    .map((b: any) => b.content);
}

describe.each([
  { type: "openai" as const, start: startFakeOpenAI },
  { type: "anthropic" as const, start: startFakeAnthropic },
])("agent_run on $type", ({ type, start }) => {
  let fake: FakeLlmServer;
  let stack: Stack;

  beforeAll(async () => {
    fake = await start(scriptedModel(type));
    stack = await startStack({
      config: {
        limits: { backoff_ms: 10 },
        agents: {
          llm: {
            type,
            base_url: type === "openai" ? `${fake.url}/v1` : fake.url,
            api_key: "sk-agent-run-test-key",
            model: "tool-model",
            retry: { max_retries: 0 },
          },
          everything: { type: "mcp", command: "node", args: [EVERYTHING_SERVER, "stdio"] },
          mock: { type: "mock" },
        },
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await fake?.close();
  });

  it("calls two tools on a real MCP server as child tasks, then answers; the transcript lists both", async () => {
    const events = await watchProgress(stack.prefix, "llm");
    try {
      const submitted = await stack.admin.post("/api/v1/tasks", {
        agent_name: "llm",
        tool_name: "agent_run",
        arguments: {
          prompt: "Echo a greeting and add 2 and 40.",
          tools: ["everything.echo", "everything.get-sum"],
          max_steps: 4,
          stream: true,
        },
      });
      expect([201, 202]).toContain(submitted.status);
      const task = await waitForTask(stack.admin, submitted.body.task_id, 20_000);
      expect(task.status, JSON.stringify(task)).toBe("completed");
      const result = task.result;
      expect(result.finish_reason).toBe("stop");
      expect(result.steps).toBe(2);
      expect(result.provider).toBe(type);
      expect(result.text).toContain("hello from the model");
      expect(result.text).toContain("42");
      expect(result.tool_calls).toHaveLength(2);
      expect(result.tool_calls[0]).toMatchObject({
        name: "everything.echo",
        provider_name: "everything__echo",
        arguments: { message: "hello from the model" },
        status: "completed",
      });
      expect(JSON.stringify(result.tool_calls[0].result)).toContain("hello from the model");
      expect(result.tool_calls[1]).toMatchObject({ name: "everything.get-sum", arguments: { a: 2, b: 40 }, status: "completed" });
      expect(JSON.stringify(result.tool_calls[1].result)).toContain("42");
      expect(result.usage).toMatchObject({ input_tokens: 130, output_tokens: 30, total_tokens: 160 });
      // The transcript: user, assistant (2 tool calls), 2 tool results, final assistant.
      expect(result.transcript.map((m: any) => m.role)).toEqual(["user", "assistant", "tool", "tool", "assistant"]);

      // Each tool call was a child task with its own record, for the same tenant.
      for (const call of result.tool_calls) {
        const child = await stack.admin.get(`/api/v1/tasks/${call.task_id}`);
        expect(child.body).toMatchObject({ agent_name: "everything", status: "completed" });
      }
      const other = await stack.otherTenant.get(`/api/v1/tasks/${result.tool_calls[0].task_id}`);
      expect(other.status).toBe(404);

      // The model saw both tools under provider-safe names.
      const offered =
        type === "openai"
          ? fake.requests[0]?.body.tools.map((t: any) => t.function.name)
          : fake.requests[0]?.body.tools.map((t: any) => t.name);
      expect(offered).toEqual(["everything__echo", "everything__get-sum"]);

      // The transcript was streamed as progress events.
      await waitFor(() => events.of(task.task_id).filter((e) => e.type === "agent_step").length >= 6 || undefined, {
        what: "agent_step events",
      });
      const kinds = events
        .of(task.task_id)
        .filter((e) => e.type === "agent_step")
        .map((e) => e.entry.type);
      expect(kinds).toEqual(["assistant", "tool_call", "tool_call", "tool_result", "tool_result", "assistant"]);
    } finally {
      await events.close();
    }
  });

  it("stops at max_steps and rejects tools that are not in the catalog", async () => {
    const capped = await stack.admin.post("/api/v1/tasks", {
      agent_name: "llm",
      tool_name: "agent_run",
      arguments: { prompt: "loop", tools: ["everything.*"], max_steps: 1 },
    });
    const task = await waitForTask(stack.admin, capped.body.task_id, 20_000);
    expect(task.status).toBe("completed");
    expect(task.result.finish_reason).toBe("max_steps");
    expect(task.result.tool_calls).toHaveLength(2);

    const missing = await stack.admin.post("/api/v1/tasks", {
      agent_name: "llm",
      tool_name: "agent_run",
      arguments: { prompt: "x", tools: ["nowhere.nothing"] },
      max_attempts: 1,
    });
    const failed = await waitForTask(stack.admin, missing.body.task_id);
    expect(failed.status).toBe("failed");
    expect(failed.error.code).toBe("TOOL_NOT_FOUND");
  });

  it("resumes after a transient failure without running finished tools again", async () => {
    const script = scriptedModel(type);
    let answers = 0;
    // The model fails once (503) right after the tools ran; the task's retry resumes from the checkpoint.
    fake.setHandler((req) => (toolResults(type, req.body).length > 0 && answers++ === 0 ? { status: 503 } : script(req)));
    try {
      const childrenBefore = (await stack.admin.get("/api/v1/tasks?agent=everything&limit=100")).body.tasks.length;
      const submitted = await stack.admin.post("/api/v1/tasks", {
        agent_name: "llm",
        tool_name: "agent_run",
        arguments: { prompt: "Echo and add.", tools: ["everything.echo", "everything.get-sum"] },
        max_attempts: 2,
      });
      const task = await waitForTask(stack.admin, submitted.body.task_id, 20_000);
      expect(task.status, JSON.stringify(task)).toBe("completed");
      expect(task.attempts).toBe(2);
      expect(task.result.resumed_after_step).toBe(1);
      expect(task.result.tool_calls).toHaveLength(2);
      expect(task.result.text).toContain("42");
      const childrenAfter = (await stack.admin.get("/api/v1/tasks?agent=everything&limit=100")).body.tasks.length;
      expect(childrenAfter - childrenBefore).toBe(2);
    } finally {
      fake.setHandler(scriptedModel(type));
    }
  });
  it("cancelling the run cancels its running child task", async () => {
    fake.setHandler(() => ({
      tool_calls: [{ id: "call_s", name: "mock__sleep", arguments: { ms: 60_000 } }],
      usage: { input: 5, output: 5 },
    }));
    try {
      const submitted = await stack.admin.post("/api/v1/tasks", {
        agent_name: "llm",
        tool_name: "agent_run",
        arguments: { prompt: "Sleep for a minute.", tools: ["mock.sleep"], max_steps: 2 },
      });
      expect(submitted.status).toBe(201);
      const child = await waitFor(async () => (await stack.admin.get("/api/v1/tasks?agent=mock&status=running")).body.tasks[0], {
        what: "the child task to run",
      });
      expect((await stack.admin.post(`/api/v1/tasks/${submitted.body.task_id}/cancel`, {})).status).toBe(202);
      expect((await waitForTask(stack.admin, submitted.body.task_id)).status).toBe("cancelled");
      expect((await waitForTask(stack.admin, child.task_id)).status).toBe("cancelled");
    } finally {
      fake.setHandler(scriptedModel(type));
    }
  });
});
