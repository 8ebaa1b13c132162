import { type AgentConfig, type ConfigWatch, watchConfigFile } from "@switchyard/config";
import type { Logger } from "@switchyard/observability";
import type { Redis } from "@switchyard/redis";
import type { AgentRegistry } from "@switchyard/store";

export interface AgentSourcesOptions {
  /** Agents from the config file as loaded at start. */
  initial: Record<string, AgentConfig>;
  /** When set, the file is watched and re-read; its `agents` replace the file's share of the set. */
  configFile?: string | undefined;
  env?: Readonly<Record<string, string | undefined>> | undefined;
  registry: AgentRegistry;
  /** A dedicated connection (it enters subscriber mode). */
  subscriber: Redis;
  /** Re-reads the registry this often even without an announcement (a missed message heals). */
  resyncMs?: number;
  logger: Logger;
  onChange: (agents: ReadonlyMap<string, AgentConfig>) => void;
}

/**
 * The desired agent set of a worker: the config file's agents (re-read when the file changes)
 * plus the agents registered at run time in Redis (re-read on every registry announcement). A
 * config-file agent wins over a registered one of the same name.
 */
export class AgentSources {
  private fileAgents: Record<string, AgentConfig>;
  private registered = new Map<string, AgentConfig>();
  private watcher: ConfigWatch | undefined;
  private resync: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: AgentSourcesOptions) {
    // A copy: in the all-in-one process the api edits the shared config object in place.
    this.fileAgents = { ...options.initial };
  }

  current(): Map<string, AgentConfig> {
    const merged = new Map<string, AgentConfig>(this.registered);
    for (const [name, config] of Object.entries(this.fileAgents)) merged.set(name, config);
    return merged;
  }

  /** Reads the registry once and starts listening; resolves with the first desired set. */
  async start(): Promise<Map<string, AgentConfig>> {
    const { subscriber, registry, logger } = this.options;
    subscriber.on("message", (channel: string) => {
      if (channel === registry.channel()) this.reloadRegistry();
    });
    await subscriber.subscribe(registry.channel());
    await this.readRegistry();
    this.resync = setInterval(() => this.reloadRegistry(), this.options.resyncMs ?? 10_000);
    this.resync.unref();
    if (this.options.configFile) this.watchFile(this.options.configFile);
    logger.debug({ registered: this.registered.size }, "agent sources ready");
    return this.current();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    clearInterval(this.resync);
  }

  private reloadRegistry(): void {
    this.readRegistry().then(
      (changed) => {
        if (changed) this.emit();
      },
      (error: Error) => this.options.logger.warn({ err: error.message }, "agent registry read failed"),
    );
  }

  /** True when the registered set changed. */
  private async readRegistry(): Promise<boolean> {
    const agents = await this.options.registry.all();
    const next = new Map(agents.map((agent) => [agent.name, agent.config]));
    const changed = fingerprint(next) !== fingerprint(this.registered);
    this.registered = next;
    return changed;
  }

  private watchFile(file: string): void {
    const { logger } = this.options;
    try {
      this.watcher = watchConfigFile(file, {
        env: this.options.env ?? {},
        onChange: (config) => {
          if (JSON.stringify(config.agents) === JSON.stringify(this.fileAgents)) return;
          this.fileAgents = config.agents;
          logger.info({ file, agents: Object.keys(config.agents) }, "config file changed; applying its agents");
          this.emit();
        },
        onInvalid: (error) => logger.warn({ file, err: error.message }, "config file changed but is invalid; keeping the running agents"),
      });
    } catch (error) {
      logger.warn({ err: (error as Error).message, file }, "cannot watch the config file; edits need a restart");
    }
  }

  private emit(): void {
    if (!this.closed) this.options.onChange(this.current());
  }
}

function fingerprint(agents: ReadonlyMap<string, AgentConfig>): string {
  return JSON.stringify([...agents.entries()].sort(([a], [b]) => a.localeCompare(b)));
}
