import { type CatalogEntry, qualifiedToolName, type ToolView } from "@switchyard/core";
import type { Redis } from "ioredis";
import type { CatalogStore } from "./catalog.js";

export type LiveEntry = CatalogEntry & { workers: number };

/**
 * A process's view of the tool catalog: read from Redis at most once per `maxAgeMs`, and at once
 * after a worker announces a change on the catalog channel. Keeps Redis reads off the task
 * submission path.
 */
export class CatalogCache {
  private entries = new Map<string, LiveEntry>();
  private loadedAt = 0;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly store: CatalogStore,
    private readonly maxAgeMs = 1_000,
  ) {}

  /** Subscribes to change announcements on a dedicated connection. */
  async subscribe(subscriber: Redis, channel: string): Promise<void> {
    subscriber.on("message", (received: string) => {
      if (received === channel) this.invalidate();
    });
    await subscriber.subscribe(channel);
  }

  invalidate(): void {
    this.loadedAt = 0;
  }

  async live(): Promise<Map<string, LiveEntry>> {
    if (Date.now() - this.loadedAt > this.maxAgeMs) await this.refresh();
    return this.entries;
  }

  async entry(agent: string): Promise<LiveEntry | undefined> {
    return (await this.live()).get(agent);
  }

  private refresh(): Promise<void> {
    this.loading ??= this.store
      .readLive()
      .then((entries) => {
        this.entries = entries;
        this.loadedAt = Date.now();
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }
}

export function toolViews(entry: CatalogEntry): ToolView[] {
  return entry.tools.map((tool) => ({
    name: qualifiedToolName(entry.namespace ?? entry.agent, tool.name),
    agent: entry.agent,
    tool: tool.name,
    description: tool.description,
    input_schema: tool.input_schema,
  }));
}
