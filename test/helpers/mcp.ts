import { type ChildProcess, spawn } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { findFreePort } from "@switchyard/redis";
import { EVERYTHING_SERVER, ROOT } from "./stack.js";

/** Switchyard's own MCP test server (slow, list_changed; with --faults: crash, hang, garbage). */
export const FIXTURE_SERVER = path.join(ROOT, "test/fixtures/mcp-fixture-server.mjs");

export interface RemoteServer {
  url: string;
  child: ChildProcess;
  close(): Promise<void>;
}

/**
 * server-everything over `streamableHttp` (endpoint /mcp) or `sse` (endpoint /sse) on a free
 * loopback port (it reads PORT). Resolves once it listens.
 */
export async function startEverythingRemote(transport: "streamableHttp" | "sse"): Promise<RemoteServer> {
  const port = await findFreePort();
  const child = spawn(process.execPath, [EVERYTHING_SERVER, transport], {
    env: { PATH: process.env.PATH, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/listening on port|running on port/i.test(output)) resolve();
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`server-everything ${transport} exited (${code}): ${output}`)));
  });
  const endpoint = transport === "sse" ? "/sse" : "/mcp";
  return {
    url: `http://127.0.0.1:${port}${endpoint}`,
    child,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/**
 * A reverse proxy that refuses requests without `Authorization: Bearer <token>`: proves the
 * configured bearer token (from ${ENV}) reaches a remote MCP server. Streams responses (SSE).
 */
export async function startBearerProxy(
  target: string,
  token: string,
): Promise<{ url: string; seen: () => number; close(): Promise<void> }> {
  const upstream = new URL(target);
  let authorized = 0;
  const server = http.createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { "content-type": "application/json" }).end('{"error":"unauthorized"}');
      return;
    }
    authorized++;
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } },
      (response) => {
        res.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${upstream.pathname}`,
    seen: () => authorized,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * An official SDK client on Switchyard's `/mcp`, the way a desktop client connects. With several
 * base URLs, requests go round-robin across them (a load balancer with no stickiness).
 */
export async function connectMcp(baseUrls: string[], key: string, hits?: Map<string, number>): Promise<Client> {
  let next = 0;
  const roundRobin = (input: string | URL | Request, init?: RequestInit) => {
    const base = baseUrls[next++ % baseUrls.length] as string;
    const url = new URL(typeof input === "string" || input instanceof URL ? input.toString() : input.url);
    const target = new URL(url.pathname + url.search, base);
    hits?.set(base, (hits.get(base) ?? 0) + 1);
    return fetch(target, init);
  };
  const transport = new StreamableHTTPClientTransport(new URL("/mcp", baseUrls[0]), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
    fetch: roundRobin,
  });
  const client = new Client({ name: "switchyard-test", version: "1.0.0" });
  await client.connect(transport);
  return client;
}
