export interface SseEvent {
  event: string;
  data: any;
}

/**
 * Reads a Server-Sent Events response to its end (or until `timeoutMs`), returning the events.
 * The status and headers are returned too, so an error response can be asserted.
 */
export async function readSse(
  url: string,
  key: string,
  timeoutMs = 15_000,
  onEvent?: (event: SseEvent) => void,
): Promise<{ status: number; contentType: string | null; events: SseEvent[]; body?: unknown }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(url, { headers: { authorization: `Bearer ${key}` }, signal: controller.signal });
    const contentType = response.headers.get("content-type");
    if (!contentType?.startsWith("text/event-stream")) {
      return { status: response.status, contentType, events: [], body: await response.json() };
    }
    const events: SseEvent[] = [];
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
        let event = "message";
        let data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) event = line.slice(7);
          else if (line.startsWith("data: ")) data += line.slice(6);
        }
        if (data) {
          const parsed = { event, data: JSON.parse(data) };
          events.push(parsed);
          onEvent?.(parsed);
        }
      }
    }
    return { status: response.status, contentType, events };
  } finally {
    clearTimeout(timer);
  }
}
