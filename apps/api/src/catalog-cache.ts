import type { SwitchyardConfig } from "@switchyard/config";
import { type CatalogEntry, qualifiedToolName, type ToolView } from "@switchyard/core";
import type { Redis } from "@switchyard/redis";
import type { CatalogStore } from "@switchyard/store";

export type LiveEntry = CatalogEntry & { workers: number };

/**
 * The api's view of the tool catalog: read from Redis at most once per `maxAgeMs`, and at once
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

/** Whether a tenant may see and use an agent (agents are shared unless scoped in config). */
export function agentVisibleTo(config: SwitchyardConfig, agent: string, tenant: string): boolean {
  const agentConfig = config.agents[agent];
  if (!agentConfig) return false;
  return !agentConfig.tenants || agentConfig.tenants.includes(tenant);
}

export function toolViews(entry: CatalogEntry): ToolView[] {
  return entry.tools.map((tool) => ({
    name: qualifiedToolName(entry.agent, tool.name),
    agent: entry.agent,
    tool: tool.name,
    description: tool.description,
    input_schema: tool.input_schema,
  }));
}
