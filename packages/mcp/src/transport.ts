import path from "node:path";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { McpAgentConfig } from "@switchyard/config";

export interface TransportOptions {
  /** Relative `cwd`s resolve against this folder (the config file's). */
  baseDir: string;
}

/** One SDK transport per connection attempt, chosen by the config's `transport`. */
export function createTransport(config: McpAgentConfig, options: TransportOptions): Transport {
  switch (config.transport) {
    case "stdio":
      return new StdioClientTransport({
        command: config.command,
        args: config.args,
        // The SDK passes only a safe subset of the parent's environment; config adds to it.
        env: { ...getDefaultEnvironment(), ...config.env },
        cwd: path.resolve(options.baseDir, config.cwd ?? "."),
        stderr: "pipe",
      });
    case "http":
      return new StreamableHTTPClientTransport(new URL(config.url), {
        requestInit: { headers: remoteHeaders(config) },
        fetch: ownSignalFetch,
      });
    case "sse":
      return new SSEClientTransport(new URL(config.url), { requestInit: { headers: remoteHeaders(config) }, fetch: ownSignalFetch });
    default: {
      const never: never = config;
      throw new Error(`unknown MCP transport ${(never as { transport: string }).transport}`);
    }
  }
}

/**
 * fetch with a signal of its own per request. The SDK's HTTP transports pass one long-lived
 * signal (the transport's) to every request, and fetch hangs an abort listener on it per request
 * that goes only when the request is garbage-collected: a worker making thousands of calls piled
 * up thousands of listeners (and MaxListenersExceededWarning lines on stderr). A dependent signal
 * (`AbortSignal.any`) still aborts with the transport's, without adding a listener to it.
 */
export function ownSignalFetch(url: string | URL, init?: RequestInit): Promise<Response> {
  return fetch(url, init?.signal ? { ...init, signal: AbortSignal.any([init.signal]) } : init);
}

function remoteHeaders(config: { headers: Record<string, string>; auth_token?: string | undefined }): Record<string, string> {
  return config.auth_token ? { ...config.headers, Authorization: `Bearer ${config.auth_token}` } : { ...config.headers };
}
