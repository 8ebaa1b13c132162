import { type FSWatcher, watch } from "node:fs";
import path from "node:path";
import { type AgentConfig, loadConfigFile } from "@switchyard/config";
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
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private resync: NodeJS.Timeout | undefined;
  private lastFileText: string | undefined;
  private closed = false;

  constructor(private readonly options: AgentSourcesOptions) {
    this.fileAgents = options.initial;
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
    clearTimeout(this.debounce);
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

  /**
   * Watches the folder, not the file: editors and `mv` replace the file, which would end a watch
   * on the old inode. Events are debounced; an unchanged or invalid file changes nothing.
   */
  private watchFile(file: string): void {
    const dir = path.dirname(file);
    const base = path.basename(file);
    try {
      this.watcher = watch(dir, (_event, name) => {
        if (name !== null && name !== base) return;
        clearTimeout(this.debounce);
        this.debounce = setTimeout(() => this.reloadFile(file), 100);
      });
      this.watcher.on("error", (error) => this.options.logger.warn({ err: error.message }, "config watch failed"));
    } catch (error) {
      this.options.logger.warn({ err: (error as Error).message, file }, "cannot watch the config file; edits need a restart");
    }
  }

  private reloadFile(file: string): void {
    if (this.closed) return;
    const { logger } = this.options;
    try {
      const loaded = loadConfigFile(file, { env: this.options.env ?? {} });
      const text = JSON.stringify(loaded.config.agents);
      if (text === this.lastFileText || text === JSON.stringify(this.fileAgents)) return;
      this.lastFileText = text;
      this.fileAgents = loaded.config.agents;
      logger.info({ file, agents: Object.keys(loaded.config.agents) }, "config file changed; applying its agents");
      this.emit();
    } catch (error) {
      logger.warn({ file, err: (error as Error).message }, "config file changed but is invalid; keeping the running agents");
    }
  }

  private emit(): void {
    if (!this.closed) this.options.onChange(this.current());
  }
}

function fingerprint(agents: ReadonlyMap<string, AgentConfig>): string {
  return JSON.stringify([...agents.entries()].sort(([a], [b]) => a.localeCompare(b)));
}
