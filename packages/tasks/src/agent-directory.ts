import type { AgentConfig, SwitchyardConfig } from "@switchyard/config";
import type { AgentRegistry, CatalogCache, LiveEntry } from "@switchyard/store";
import type { Redis } from "ioredis";

/** An agent the platform serves: from the config file or registered at run time. */
export interface EffectiveAgent {
  name: string;
  config: AgentConfig;
  /** `worker`: known only from a live catalog entry (an agent in a worker's own config file). */
  source: "config" | "registry" | "worker";
  /** Registry agents: the tenant and key id that registered it. */
  registered_by?: { tenant: string; key_id: string; at: number } | undefined;
}

/**
 * The effective agent set: config agents ∪ registry agents (a config agent wins a name clash) ∪
 * agents only a worker knows (from its own config file), seen through their live catalog entry.
 * Cached in memory and re-read at most every `maxAgeMs`, or at once after a registry change is
 * announced, so submissions do not read the registry on every request.
 */
export class AgentDirectory {
  private agents = new Map<string, EffectiveAgent>();
  private loadedAt = 0;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly config: SwitchyardConfig,
    private readonly registry?: AgentRegistry,
    private readonly catalog?: CatalogCache,
    private readonly maxAgeMs = 1_000,
  ) {
    if (!registry) {
      this.agents = this.fromConfig();
      this.loadedAt = Number.POSITIVE_INFINITY;
    }
  }

  /** Listens for registry changes on a subscriber connection. */
  async subscribe(subscriber: Redis): Promise<void> {
    if (!this.registry) return;
    const channel = this.registry.channel();
    subscriber.on("message", (received: string) => {
      if (received === channel) this.invalidate();
    });
    await subscriber.subscribe(channel);
  }

  invalidate(): void {
    if (this.registry) this.loadedAt = 0;
  }

  async all(): Promise<Map<string, EffectiveAgent>> {
    if (Date.now() - this.loadedAt > this.maxAgeMs) await this.refresh();
    if (!this.catalog) return this.agents;
    const live = await this.catalog.live();
    let merged: Map<string, EffectiveAgent> | undefined;
    for (const entry of live.values()) {
      if (this.agents.has(entry.agent)) continue;
      merged ??= new Map(this.agents);
      merged.set(entry.agent, fromCatalog(entry));
    }
    return merged ?? this.agents;
  }

  async get(name: string): Promise<EffectiveAgent | undefined> {
    return (await this.all()).get(name);
  }

  /** Agents a tenant may see and use, by name. */
  async visibleTo(tenant: string): Promise<EffectiveAgent[]> {
    return [...(await this.all()).values()].filter((agent) => isVisible(agent, tenant)).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The agent if it exists and the tenant may use it. */
  async find(name: string, tenant: string): Promise<EffectiveAgent | undefined> {
    const agent = await this.get(name);
    return agent && isVisible(agent, tenant) ? agent : undefined;
  }

  private fromConfig(): Map<string, EffectiveAgent> {
    return new Map(Object.entries(this.config.agents).map(([name, config]) => [name, { name, config, source: "config" as const }]));
  }

  private refresh(): Promise<void> {
    this.loading ??= (this.registry as AgentRegistry)
      .all()
      .then((registered) => {
        const agents = this.fromConfig();
        for (const agent of registered) {
          if (agents.has(agent.name)) continue;
          agents.set(agent.name, {
            name: agent.name,
            config: agent.config,
            source: "registry",
            registered_by: { tenant: agent.tenant, key_id: agent.created_by, at: agent.created_at },
          });
        }
        this.agents = agents;
        this.loadedAt = Date.now();
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }
}

/**
 * An agent known only from its catalog entry: the entry carries what the api needs (type, tenant
 * scope, task defaults); the rest of its config stays with the worker.
 */
function fromCatalog(entry: LiveEntry): EffectiveAgent {
  const config = {
    type: entry.agent_type,
    description: entry.description,
    capabilities: [],
    concurrency: 1,
    ...(entry.tenants ? { tenants: entry.tenants } : {}),
    ...(entry.timeout_ms ? { timeout_ms: entry.timeout_ms } : {}),
    ...(entry.max_attempts ? { max_attempts: entry.max_attempts } : {}),
  } as unknown as AgentConfig;
  return { name: entry.agent, config, source: "worker" };
}

/** Agents are shared unless scoped to tenants (`tenants` in their config). */
export function isVisible(agent: EffectiveAgent, tenant: string): boolean {
  return !agent.config.tenants || agent.config.tenants.includes(tenant);
}
