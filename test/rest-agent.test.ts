import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack, waitForTask } from "./helpers/stack.js";

/** A local HTTP API the rest agent calls: records requests, answers by path. */
function startUpstream(): Promise<{
  server: Server;
  url: string;
  requests: Array<{ method: string; url: string; auth?: string; body: string }>;
}> {
  const requests: Array<{ method: string; url: string; auth?: string; body: string }> = [];
  let flaky = 0;
  const server = createServer(async (req: IncomingMessage, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    requests.push({
      method: req.method ?? "",
      url: req.url ?? "",
      ...(req.headers.authorization ? { auth: req.headers.authorization } : {}),
      body,
    });
    res.setHeader("content-type", "application/json");
    if (req.url?.startsWith("/forecast/")) {
      res.end(JSON.stringify({ city: decodeURIComponent(req.url.split("/")[2]?.split("?")[0] ?? ""), temp: 21 }));
    } else if (req.url === "/notes" && req.method === "POST") {
      res.statusCode = 201;
      res.end(JSON.stringify({ stored: JSON.parse(body) }));
    } else if (req.url === "/flaky") {
      flaky++;
      if (flaky === 1) {
        res.statusCode = 503;
        res.setHeader("retry-after", "0");
        res.end(JSON.stringify({ error: "busy" }));
      } else res.end(JSON.stringify({ ok: true, calls: flaky }));
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ error: "nope" }));
    }
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests })),
  );
}

describe("rest agent", () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let stack: Stack;

  beforeAll(async () => {
    upstream = await startUpstream();
    stack = await startStack({
      config: {
        agents: {
          weather: {
            type: "rest",
            base_url: upstream.url,
            auth_token: "rest-secret-token-123",
            tools: {
              forecast: {
                method: "GET",
                path: "/forecast/{city}",
                input_schema: { type: "object", properties: { city: { type: "string" }, days: { type: "integer" } }, required: ["city"] },
              },
              save_note: { method: "POST", path: "/notes" },
              flaky: { method: "GET", path: "/flaky" },
              missing: { method: "GET", path: "/missing" },
            },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
    upstream?.server.close();
  });

  it("fills path parameters, sends the rest as query or JSON body, with the bearer token", async () => {
    const get = await stack.operator.post("/api/v1/tasks", {
      agent_name: "weather",
      tool_name: "forecast",
      arguments: { city: "Den Haag", days: 2 },
    });
    expect(await waitForTask(stack.viewer, get.body.task_id)).toMatchObject({
      status: "completed",
      result: { status: 200, body: { city: "Den Haag", temp: 21 } },
    });
    const post = await stack.operator.post("/api/v1/tasks", { agent_name: "weather", tool_name: "save_note", arguments: { text: "hi" } });
    expect(await waitForTask(stack.viewer, post.body.task_id)).toMatchObject({
      status: "completed",
      result: { status: 201, body: { stored: { text: "hi" } } },
    });
    const forecast = upstream.requests.find((r) => r.url.startsWith("/forecast/"));
    expect(forecast).toMatchObject({ method: "GET", url: "/forecast/Den%20Haag?days=2", auth: "Bearer rest-secret-token-123" });
  });

  it("a 4xx fails at once; a 503 is retried", async () => {
    const missing = await stack.operator.post("/api/v1/tasks", { agent_name: "weather", tool_name: "missing" });
    expect(await waitForTask(stack.viewer, missing.body.task_id)).toMatchObject({
      status: "failed",
      attempts: 1,
      error: { code: "TOOL_ERROR" },
    });
    const flaky = await stack.operator.post("/api/v1/tasks", { agent_name: "weather", tool_name: "flaky" });
    expect(await waitForTask(stack.viewer, flaky.body.task_id)).toMatchObject({
      status: "completed",
      attempts: 2,
      result: { body: { ok: true } },
    });
  });

  it("the token never appears in responses or logs", async () => {
    const tools = await stack.viewer.get("/api/v1/tools");
    const agents = await stack.viewer.get("/api/v1/agents");
    expect(JSON.stringify([tools.body, agents.body])).not.toContain("rest-secret-token-123");
    expect(stack.logs.text()).not.toContain("rest-secret-token-123");
  });
});
