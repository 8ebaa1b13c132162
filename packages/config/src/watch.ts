import { type FSWatcher, watch } from "node:fs";
import path from "node:path";
import type { Env } from "./env-subst.js";
import { loadConfigFile } from "./load.js";
import type { SwitchyardConfig } from "./schema.js";

export interface ConfigWatchOptions {
  env: Env;
  /** A valid new version of the file (only when its content changed). */
  onChange: (config: SwitchyardConfig) => void;
  /** The file changed but does not load: the caller keeps what it runs. */
  onInvalid?: (error: Error) => void;
  debounceMs?: number;
}

export interface ConfigWatch {
  close(): void;
}

/**
 * Watches a config file and hands over each valid new version. Watches the folder, not the file:
 * editors and `mv` replace the file, which would end a watch on the old inode. Events are
 * debounced; an unchanged or invalid file is not handed over.
 */
export function watchConfigFile(file: string, options: ConfigWatchOptions): ConfigWatch {
  const absolute = path.resolve(file);
  const base = path.basename(absolute);
  let debounce: NodeJS.Timeout | undefined;
  let last: string | undefined;
  let closed = false;
  try {
    last = JSON.stringify(loadConfigFile(absolute, { env: options.env }).config);
  } catch {
    // Invalid now: the first valid version will count as a change.
  }
  const reload = () => {
    if (closed) return;
    try {
      const { config } = loadConfigFile(absolute, { env: options.env });
      const text = JSON.stringify(config);
      if (text === last) return;
      last = text;
      options.onChange(config);
    } catch (error) {
      options.onInvalid?.(error as Error);
    }
  };
  const watcher: FSWatcher = watch(path.dirname(absolute), (_event, name) => {
    if (name !== null && name !== base) return;
    clearTimeout(debounce);
    debounce = setTimeout(reload, options.debounceMs ?? 100);
  });
  watcher.on("error", (error) => options.onInvalid?.(error));
  return {
    close: () => {
      closed = true;
      clearTimeout(debounce);
      watcher.close();
    },
  };
}

/**
 * Makes `target.agents` equal to `agents` in place, for processes whose services hold a reference
 * to one config object (the api's routers): they see the new agent set without being rebuilt.
 */
export function replaceAgentsInPlace(target: SwitchyardConfig, agents: SwitchyardConfig["agents"]): void {
  for (const name of Object.keys(target.agents)) if (!(name in agents)) delete target.agents[name];
  Object.assign(target.agents, agents);
}
