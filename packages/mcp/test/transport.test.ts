import { getEventListeners } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownSignalFetch } from "../src/transport.js";

/** fetch as the MCP HTTP transports make it: many requests under one long-lived signal. */
describe("ownSignalFetch", () => {
  let server: Server;
  let url: string;
  const held: Array<() => void> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/hang") {
        // Answers only when the test lets go (or the client aborts and the socket closes).
        held.push(() => res.end("late"));
        return;
      }
      res.end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const release of held.splice(0)) release();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("hangs no listener on the shared signal, however many requests use it", async () => {
    const transportSignal = new AbortController().signal;
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => {
      if (warning.name === "MaxListenersExceededWarning") warnings.push(warning);
    };
    process.on("warning", onWarning);
    try {
      for (let i = 0; i < 1_600; i++) {
        const res = await ownSignalFetch(`${url}/ok`, { signal: transportSignal });
        expect(await res.text()).toBe("ok");
      }
      expect(getEventListeners(transportSignal, "abort")).toHaveLength(0);
      expect(warnings).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("still aborts a request in flight when the shared signal aborts", async () => {
    const controller = new AbortController();
    const pending = ownSignalFetch(`${url}/hang`, { signal: controller.signal });
    await expect.poll(() => held.length).toBe(1);
    controller.abort(new Error("transport closed"));
    await expect(pending).rejects.toThrow("transport closed");
  });

  it("passes a request without a signal through unchanged", async () => {
    const res = await ownSignalFetch(`${url}/ok`, { method: "GET" });
    expect(await res.text()).toBe("ok");
  });
});
