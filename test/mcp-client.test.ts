import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { McpAgentClient } from "@switchyard/agents";
import { McpAgentConfig } from "@switchyard/config";
import { ToolDescriptor } from "@switchyard/core";
import { CircuitBreaker, McpClient, ResultCache } from "@switchyard/mcp";
import { afterEach, describe, expect, it } from "vitest";
import { descendantsOf, isAlive } from "./helpers/cli.js";
import { FIXTURE_SERVER } from "./helpers/mcp.js";
import { ROOT } from "./helpers/stack.js";
import { waitFor } from "./helpers/wait.js";

const logger = { info: () => {}, warn: () => {}, debug: () => {} };

function fixtureConfig(extra: Record<string, unknown> = {}) {
  return McpAgentConfig.parse({ type: "mcp", transport: "stdio", command: process.execPath, args: [FIXTURE_SERVER, "--faults"], ...extra });
}

const open: Array<{ close(): Promise<void> }> = [];
function track<T extends { close(): Promise<void> }>(thing: T): T {
  open.push(thing);
  return thing;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((thing) => thing.close()));
});

const call = (signal = new AbortController().signal, timeoutMs = 10_000) => ({ signal, timeoutMs });
const textOf = (result: { content: unknown }) => (result.content as Array<{ text?: string }>)[0]?.text;

describe("MCP client lifecycle (own fixture server over stdio)", () => {
  it("lists tools, resources and prompts, and survives garbage on stdout", async () => {
    const client = track(new McpClient({ name: "fx", config: fixtureConfig(), baseDir: ROOT, logger }));
    await client.start();
    expect(client.listTools().map((t) => t.name)).toEqual(expect.arrayContaining(["echo", "slow", "block_once", "hang", "garbage"]));
    for (const tool of client.listTools()) expect(ToolDescriptor.safeParse(tool).success).toBe(true);
    expect(client.listResources()).toEqual([expect.objectContaining({ uri: "fixture://readme", name: "readme", mime_type: "text/plain" })]);
    expect(client.listPrompts()).toEqual([
      expect.objectContaining({ name: "greet", arguments: [expect.objectContaining({ name: "who" })] }),
    ]);
    expect(textOf(await client.callTool("garbage", {}, call()))).toBe("still fine");
    expect(textOf(await client.callTool("echo", { text: "after garbage" }, call()))).toBe("after garbage");
    expect(client.restarts).toBe(0);
  });

  it("reports progress and sends notifications/cancelled when the call is aborted", async () => {
    const client = track(new McpClient({ name: "fx", config: fixtureConfig(), baseDir: ROOT, logger }));
    await client.start();
    const progress: number[] = [];
    const done = await client.callTool("slow", { ms: 200, step_ms: 40 }, { ...call(), onProgress: (p) => progress.push(p.progress) });
    expect(textOf(done)).toBe("slept 200");
    expect(progress.length).toBeGreaterThanOrEqual(3);

    const controller = new AbortController();
    const pending = client.callTool(
      "slow",
      { ms: 30_000, step_ms: 20 },
      { ...call(controller.signal), onProgress: () => controller.abort() },
    );
    await expect(pending).rejects.toMatchObject({ code: "CANCELLED" });
    // The server saw the cancellation notification: its handler's signal fired and it stopped.
    await waitFor(async () => JSON.parse(textOf(await client.callTool("stats", {}, call())) ?? "{}").cancelled === 1, {
      what: "server-side cancellation",
    });
  });

  it("a killed server fails the in-flight call with a retryable error and is restarted", async () => {
    const client = track(new McpClient({ name: "fx", config: fixtureConfig(), baseDir: ROOT, logger }));
    await client.start();
    const first = client.pid;
    expect(first).toBeGreaterThan(0);
    const pending = client.callTool("slow", { ms: 30_000 }, call());
    await waitFor(async () => client.connected);
    process.kill(first as number, "SIGKILL");
    await expect(pending).rejects.toMatchObject({ code: "AGENT_UNAVAILABLE", retryable: true });
    await waitFor(() => client.connected && client.pid !== first, { what: "restart" });
    expect(client.restarts).toBe(1);
    expect(textOf(await client.callTool("echo", { text: "back" }, call()))).toBe("back");
    expect(isAlive(first as number)).toBe(false);
  });

  it("a server that stops answering pings is killed and restarted", async () => {
    const client = track(
      new McpClient({ name: "fx", config: fixtureConfig({ ping_interval_ms: 100, ping_timeout_ms: 300 }), baseDir: ROOT, logger }),
    );
    await client.start();
    const first = client.pid as number;
    const pending = client.callTool("hang", {}, call(undefined, 20_000));
    await expect(pending).rejects.toMatchObject({ retryable: true });
    await waitFor(() => client.connected && client.pid !== first, { what: "restart after hang", timeoutMs: 15_000 });
    await waitFor(() => !isAlive(first), { what: "hung child gone", timeoutMs: 10_000 });
    expect(textOf(await client.callTool("echo", { text: "unhung" }, call()))).toBe("unhung");
  });

  it("the circuit opens after repeated failures: calls fail fast and reconnects wait", async () => {
    const client = track(
      new McpClient({
        name: "broken",
        config: McpAgentConfig.parse({
          type: "mcp",
          transport: "stdio",
          command: process.execPath,
          args: ["-e", "process.exit(1)"],
          restart_backoff_ms: 10,
          restart_backoff_max_ms: 20,
          circuit_failure_threshold: 3,
          circuit_open_ms: 60_000,
        }),
        baseDir: ROOT,
        logger,
      }),
    );
    await expect(client.start()).rejects.toMatchObject({ code: "AGENT_UNAVAILABLE" });
    await waitFor(() => client.breaker.state === "open", { what: "circuit open" });
    const started = Date.now();
    await expect(client.callTool("anything", {}, call())).rejects.toMatchObject({
      code: "AGENT_UNAVAILABLE",
      message: expect.stringContaining("circuit open"),
      retryAfterMs: expect.any(Number),
    });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("refreshes the tool list on notifications/tools/list_changed", async () => {
    let changes = 0;
    const client = track(
      new McpClient({
        name: "fx",
        config: fixtureConfig(),
        baseDir: ROOT,
        logger,
        onToolsChanged: () => {
          changes++;
        },
      }),
    );
    await client.start();
    await client.callTool("add_tool", { name: "brand_new" }, call());
    await waitFor(() => client.listTools().some((t) => t.name === "brand_new"), { what: "new tool listed" });
    expect(changes).toBeGreaterThanOrEqual(1);
  });

  it("caches results of tools marked read_only with cache_ttl_ms, keyed by canonical arguments", async () => {
    const agent = track(
      new McpAgentClient(
        "fx",
        fixtureConfig({ tools: { echo: { read_only: true, cache_ttl_ms: 60_000 }, slow: { cache_ttl_ms: 60_000 } } }),
        { baseDir: ROOT, logger, onToolsChanged: () => {} },
      ),
    );
    await agent.start();
    const ctx = { signal: new AbortController().signal, timeoutMs: 5_000, taskId: "t", tenant: "x", attempt: 1 };
    const stats = async () => JSON.parse(textOf((await agent.callTool("stats", {}, ctx)) as { content: unknown }) ?? "{}").calls;
    const a = await agent.callTool("echo", { text: "same", z: 1, a: { y: 1, b: 2 } } as Record<string, unknown>, ctx);
    const b = await agent.callTool("echo", { a: { b: 2, y: 1 }, z: 1, text: "same" } as Record<string, unknown>, ctx);
    expect(b).toEqual(a);
    expect(await stats()).toBe(1);
    await agent.callTool("echo", { text: "other" }, ctx);
    expect(await stats()).toBe(2);
    // `slow` has a TTL but is not marked read_only: never cached.
    await agent.callTool("slow", { ms: 0 }, ctx);
    await agent.callTool("slow", { ms: 0 }, ctx);
    expect(await stats()).toBe(4);
  });

  it("block_once marker helper works (fixture sanity)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sy-fx-"));
    try {
      const client = track(new McpClient({ name: "fx", config: fixtureConfig(), baseDir: ROOT, logger }));
      await client.start();
      const marker = path.join(dir, "m");
      const controller = new AbortController();
      const blocked = client.callTool("block_once", { marker }, call(controller.signal));
      await waitFor(() => existsSync(marker));
      controller.abort();
      await expect(blocked).rejects.toMatchObject({ code: "CANCELLED" });
      expect(textOf(await client.callTool("block_once", { marker }, call()))).toMatch(/^answered by \d+$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("close() leaves no child process behind", async () => {
    const client = new McpClient({ name: "fx", config: fixtureConfig(), baseDir: ROOT, logger });
    await client.start();
    const pid = client.pid as number;
    expect(descendantsOf(process.pid)).toContain(pid);
    await client.close();
    expect(isAlive(pid)).toBe(false);
    expect(descendantsOf(process.pid)).not.toContain(pid);
  });
});

describe("circuit breaker and result cache (units)", () => {
  it("opens at the threshold, half-opens after the period, closes on success", () => {
    let now = 0;
    const breaker = new CircuitBreaker(2, 1_000, () => now);
    expect(breaker.failure()).toBe(false);
    expect(breaker.failure()).toBe(true);
    expect(breaker.state).toBe("open");
    now = 999;
    expect(breaker.openForMs()).toBe(1);
    now = 1_000;
    expect(breaker.state).toBe("half_open");
    expect(breaker.failure()).toBe(true);
    expect(breaker.state).toBe("open");
    breaker.success();
    expect(breaker.state).toBe("closed");
  });

  it("expires entries and evicts the oldest past its bound", () => {
    let now = 0;
    const cache = new ResultCache(2, () => now);
    cache.set("t", { a: 1 }, "one", 100);
    cache.set("t", { a: 2 }, "two", 100);
    cache.set("t", { a: 3 }, "three", 100);
    expect(cache.get("t", { a: 1 })).toBeUndefined();
    expect(cache.get("t", { a: 3 })).toEqual({ value: "three" });
    now = 100;
    expect(cache.get("t", { a: 3 })).toBeUndefined();
  });
});
