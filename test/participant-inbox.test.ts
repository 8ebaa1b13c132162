import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiClient, apiClient } from "./helpers/http.js";
import { ROOT, type Stack, startStack } from "./helpers/stack.js";

const READER = path.join(ROOT, "test/fixtures/inbox-reader.mjs");

describe("participant inboxes", () => {
  let stack: Stack;
  const call = async (client: ApiClient, tool: string, body: unknown = {}) => {
    const response = await client.post(`/api/v1/participants/${tool}`, body);
    if (response.status !== 200) throw new Error(`${tool}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };

  beforeAll(async () => {
    stack = await startStack({
      worker: false,
      coordinator: false,
      config: { agents: { mock: { type: "mock" } }, participants: { message_redeliver_after_ms: 300, max_messages_per_minute: 1000 } },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("loses and duplicates nothing when a reader dies before acknowledging", async () => {
    const sender = apiClient(stack.url, (await call(stack.operator, "register_agent", { id: "sender" })).api_key);
    const other = apiClient(stack.url, (await call(stack.operator, "register_agent", { id: "other" })).api_key);
    const readerKey = (await call(stack.operator, "register_agent", { id: "reader" })).api_key;
    const sent: { id: string; from: string; n: number }[] = [];
    const send = async (client: ApiClient, from: string, n: number) => {
      const { message_ids } = await call(client, "send_message", { to: "reader", body: { n } });
      sent.push({ id: message_ids[0], from, n });
    };
    for (let n = 0; n < 10; n++) await send(n % 2 ? other : sender, n % 2 ? "other" : "sender", n);

    // A real reader process takes four messages and is killed before it acknowledges them.
    const child = spawn(process.execPath, [READER], {
      env: { ...process.env, SWITCHYARD_URL: stack.url, AGENT_KEY: readerKey, MAX: "4" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once("line", resolve));
    const taken = JSON.parse(line) as { status: number; ids: string[] };
    expect(taken.status).toBe(200);
    expect(taken.ids).toEqual(sent.slice(0, 4).map((m) => m.id));
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));

    for (let n = 10; n < 15; n++) await send(sender, "sender", n);

    // The restarted reader acknowledges each batch with its next read.
    const reader = apiClient(stack.url, readerKey);
    const processed: { id: string; from: string; n: number; deliveries: number }[] = [];
    let ack: string[] = [];
    while (processed.length < sent.length) {
      const { messages } = await call(reader, "read_messages", { max: 3, wait_ms: 2_000, ack });
      if (messages.length === 0) break;
      for (const m of messages) processed.push({ id: m.id, from: m.from, n: m.body.n, deliveries: m.deliveries });
      ack = messages.map((m: { id: string }) => m.id);
    }
    await call(reader, "ack_messages", { ids: ack });

    // Every message exactly once, none lost.
    expect(processed.map((m) => m.id).sort()).toEqual(sent.map((m) => m.id).sort());
    expect(new Set(processed.map((m) => m.id)).size).toBe(sent.length);
    // The four the dead reader held were delivered a second time; the others once.
    for (const m of processed) expect(m.deliveries, m.id).toBe(taken.ids.includes(m.id) ? 2 : 1);
    // Per sender, messages delivered for the first time arrive in the order sent.
    for (const from of ["sender", "other"]) {
      const firsts = processed.filter((m) => m.from === from && m.deliveries === 1).map((m) => m.n);
      expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
    }
    // Nothing is left: no redelivery after acknowledgement.
    expect((await call(reader, "read_messages", { wait_ms: 600 })).messages).toEqual([]);
    const status = await call(sender, "check_message_recipient_status");
    expect(status.recipients).toEqual([expect.objectContaining({ agent_id: "reader", unread: 0, unacknowledged: 0 })]);
  });
});
