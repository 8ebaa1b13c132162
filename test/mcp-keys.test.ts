import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectMcp } from "./helpers/mcp.js";
import { type Stack, startStack } from "./helpers/stack.js";

/** A key created through `POST /api/v1/keys` works on `/mcp` as on the REST API, until revoked. */
describe("/mcp with API-created keys", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("accepts a stored key and refuses it once revoked", async () => {
    const created = await stack.admin.post("/api/v1/keys", { role: "operator", name: "mcp-client" });
    expect(created.status).toBe(201);
    const client = await connectMcp([stack.url], created.body.key);
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain("mock__echo");
    await client.close();

    expect((await stack.admin.delete(`/api/v1/keys/${created.body.id}`)).status).toBe(204);
    const refused = await fetch(`${stack.url}/mcp`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${created.body.key}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(refused.status).toBe(401);
  });
});
