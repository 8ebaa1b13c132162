import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EVERYTHING_SERVER, ROOT, type Stack, startStack, waitForTask } from "./helpers/stack.js";

/** The offline demo: examples/local-llm-server.mjs drives an agent_run over the real MCP server. */
describe("examples/local-llm-server.mjs", () => {
  let server: ChildProcess;
  let stack: Stack;

  beforeAll(async () => {
    server = spawn(process.execPath, [path.join(ROOT, "examples/local-llm-server.mjs"), "--port", "0"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      server.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening on (\S+)/.exec(out);
        if (match?.[1]) resolve(match[1]);
      });
      server.once("exit", () => reject(new Error(`server exited: ${out}`)));
    });
    stack = await startStack({
      config: {
        agents: {
          local: { type: "openai", base_url: url, api_key: "not-needed", model: "switchyard-local", embedding_model: "switchyard-embed" },
          everything: { type: "mcp", command: "node", args: [EVERYTHING_SERVER, "stdio"] },
        },
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
    server?.kill("SIGTERM");
  });

  const run = async (tool: string, args: Record<string, unknown>) => {
    const submitted = await stack.admin.post("/api/v1/tasks", { agent_name: "local", tool_name: tool, arguments: args });
    expect([201, 202]).toContain(submitted.status);
    return waitForTask(stack.admin, submitted.body.task_id, 20_000);
  };

  it("runs an agent that calls echo and get-sum, offline", async () => {
    const task = await run("agent_run", {
      prompt: 'Use echo to repeat "hi there" and get-sum to add 3 and 4.',
      tools: ["everything.echo", "everything.get-sum"],
      stream: true,
    });
    expect(task.status, JSON.stringify(task)).toBe("completed");
    expect(task.result.tool_calls.map((c: { name: string }) => c.name)).toEqual(["everything.echo", "everything.get-sum"]);
    expect(task.result.tool_calls[0].arguments).toEqual({ message: "hi there" });
    expect(task.result.tool_calls[1].arguments).toEqual({ a: 3, b: 4 });
    expect(task.result.text).toContain("hi there");
    expect(task.result.text).toContain("7");
    expect(task.result.usage.total_tokens).toBeGreaterThan(0);
  });

  it("answers plain prompts and embeds text", async () => {
    const chat = await run("generate_text", { prompt: "ping", stream: true });
    expect(chat.result.text).toBe("You said: ping");
    const embedded = await run("embed_text", { input: "hello" });
    expect(embedded.result.dimensions).toBe(8);
  });
});
