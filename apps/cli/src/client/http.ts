/** Exit codes of the client commands; scripts branch on them. */
export const EXIT = {
  ok: 0,
  /** The task or run finished failed or cancelled (with --wait / watch). */
  failed: 1,
  /** Bad command line or config. */
  usage: 2,
  /** The API refused the request (4xx: auth, validation, not found). */
  refused: 3,
  /** The server could not be reached or failed (network error, 5xx). */
  unavailable: 4,
} as const;

/** An error the API answered with, or a failure to reach it; carries its exit code. */
export class ClientError extends Error {
  override name = "ClientError";
  constructor(
    message: string,
    readonly exitCode: number,
    readonly status?: number,
    readonly errorCode?: string,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  url: string;
  key?: string | undefined;
}

/** A small JSON client for the REST API (fetch; the key as a bearer token). */
export class SwitchyardClient {
  readonly url: string;
  constructor(private readonly options: ClientOptions) {
    this.url = options.url.replace(/\/+$/, "");
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.options.key ? { authorization: `Bearer ${this.options.key}` } : {}), ...extra };
  }

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: this.headers(body !== undefined ? { "content-type": "application/json" } : {}),
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      throw new ClientError(`cannot reach ${this.url} (${causeOf(error)})`, EXIT.unavailable);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) throw apiError(method, path, response.status, parsed);
    return parsed as T;
  }

  get<T = unknown>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }
  post<T = unknown>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("POST", path, body ?? {});
  }

  /**
   * Reads a server-sent event stream, calling `onEvent` per event until `onEvent` returns true,
   * the stream ends or `signal` aborts. Resolves false when the route does not exist (404
   * ROUTE_NOT_FOUND), so callers can fall back to polling.
   */
  async events(
    path: string,
    onEvent: (event: { event: string; data: unknown; id?: string }) => boolean | Promise<boolean>,
    signal?: AbortSignal,
  ): Promise<boolean> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        headers: this.headers({ accept: "text/event-stream" }),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (signal?.aborted) return true;
      throw new ClientError(`cannot reach ${this.url} (${causeOf(error)})`, EXIT.unavailable);
    }
    if (!response.ok) {
      const body = await response.json().catch(() => undefined);
      if (response.status === 404 && (body as { error_code?: string } | undefined)?.error_code === "ROUTE_NOT_FOUND") return false;
      throw apiError("GET", path, response.status, body);
    }
    if (!response.body) return true;
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let boundary = buffer.search(/\r?\n\r?\n/);
        while (boundary >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, "");
          const parsed = parseSseBlock(block);
          if (parsed && (await onEvent(parsed))) return true;
          boundary = buffer.search(/\r?\n\r?\n/);
        }
      }
    } catch (error) {
      if (signal?.aborted) return true;
      throw new ClientError(`event stream broke (${causeOf(error)})`, EXIT.unavailable);
    } finally {
      await response.body.cancel().catch(() => {});
    }
    return true;
  }
}

/** One SSE block → event; comments (`: keep-alive`) and empty blocks → undefined. */
export function parseSseBlock(block: string): { event: string; data: unknown; id?: string } | undefined {
  let event = "message";
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    else if (field === "id") id = value;
  }
  if (data.length === 0) return undefined;
  const text = data.join("\n");
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // plain text data
  }
  return { event, data: parsed, ...(id !== undefined ? { id } : {}) };
}

function apiError(method: string, path: string, status: number, body: unknown): ClientError {
  const b = body as { error_code?: string; message?: string } | undefined;
  const message = b?.message ? `${b.error_code ?? status}: ${b.message}` : `${method} ${path}: HTTP ${status}`;
  return new ClientError(message, status >= 500 ? EXIT.unavailable : EXIT.refused, status, b?.error_code);
}

function causeOf(error: unknown): string {
  const e = error as { cause?: { code?: string; message?: string }; message?: string };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(error);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
