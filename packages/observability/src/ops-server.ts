import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { SwitchyardMetrics } from "./metrics.js";

/** What `/readyz` reports: each check is "ok" or a sentence saying what is wrong. */
export type ReadinessChecks = Record<string, string>;

export interface ReadinessReport {
  status: "ready" | "not_ready";
  checks: ReadinessChecks;
}

export async function readinessReport(checks: () => Promise<ReadinessChecks>): Promise<ReadinessReport> {
  let result: ReadinessChecks;
  try {
    result = await checks();
  } catch (error) {
    result = { readiness: `check failed (${(error as Error).message})` };
  }
  const ready = Object.values(result).every((v) => v === "ok");
  return { status: ready ? "ready" : "not_ready", checks: result };
}

/** Pings Redis with a deadline; "ok" or what went wrong. */
export async function redisCheck(redis: { ping(): Promise<string> }, timeoutMs = 1_000): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const pong = await Promise.race([
      redis.ping(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("timeout")), timeoutMs);
      }),
    ]);
    return pong === "PONG" ? "ok" : `unexpected reply ${pong}`;
  } catch (error) {
    return `unreachable (${(error as Error).message})`;
  } finally {
    clearTimeout(timer);
  }
}

export interface OpsServerOptions {
  metrics: SwitchyardMetrics;
  ready: () => Promise<ReadinessChecks>;
  host: string;
  port: number;
  /**
   * When the port is taken, listen on a free one instead of failing (several workers on one
   * host: a laptop, a test). The chosen URL is logged by the caller; set false in production
   * images where probes expect the configured port.
   */
  fallbackToFreePort?: boolean;
}

export interface OpsServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/**
 * The worker's and coordinator's small HTTP server: `/metrics`, `/healthz` (process up) and
 * `/readyz` (JSON saying what is wrong, 503 when not ready). Unauthenticated, like the api's:
 * expose it on the cluster network only.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    const json = (status: number, body: unknown) => send(status, "application/json; charset=utf-8", JSON.stringify(body));
    if (req.method !== "GET" && req.method !== "HEAD")
      return json(405, { error_code: "METHOD_NOT_ALLOWED", message: "GET only", details: null });
    switch (path) {
      case "/healthz":
        return json(200, { status: "ok" });
      case "/readyz":
        readinessReport(options.ready).then(
          (report) => json(report.status === "ready" ? 200 : 503, report),
          (error: Error) => json(503, { status: "not_ready", checks: { readiness: error.message } }),
        );
        return;
      case "/metrics":
        options.metrics.scrape().then(
          (text) => send(200, options.metrics.contentType, text),
          (error: Error) => send(500, "text/plain", `scrape failed: ${error.message}\n`),
        );
        return;
      default:
        return json(404, { error_code: "ROUTE_NOT_FOUND", message: `no route ${path?.slice(0, 200)}`, details: null });
    }
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => {
        server.off("listening", onListening);
        reject(error);
      };
      const onListening = () => {
        server.off("error", onError);
        resolve();
      };
      server.once("error", onError);
      server.once("listening", onListening);
      server.listen(port, options.host);
    });
  try {
    await listen(options.port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE" || !options.fallbackToFreePort || options.port === 0) throw error;
    await listen(0);
  }
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
