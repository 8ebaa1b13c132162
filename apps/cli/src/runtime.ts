import path from "node:path";
import { ConfigError, type LoadedConfig, loadConfigFile } from "@switchyard/config";
import { createLogger, type Logger } from "@switchyard/observability";
import type { Env } from "./env.js";

export class UsageError extends Error {
  override name = "UsageError";
}

export interface GlobalOptions {
  config?: string;
}

export function configPath(options: GlobalOptions, env: Env): string {
  return options.config ?? env.SWITCHYARD_CONFIG ?? "switchyard.yaml";
}

export function loadConfig(options: GlobalOptions, env: Env, raw: Readonly<Record<string, string | undefined>>): LoadedConfig {
  const file = configPath(options, env);
  try {
    return loadConfigFile(file, { env: raw });
  } catch (error) {
    if (error instanceof ConfigError && error.problems[0]?.message === "file not found" && !options.config && !env.SWITCHYARD_CONFIG) {
      throw new ConfigError(file, [
        { path: "", message: "file not found (pass --config FILE or set SWITCHYARD_CONFIG; see examples/switchyard.yaml)" },
      ]);
    }
    throw error;
  }
}

export function makeLogger(env: Env, service: string): Logger {
  const pretty = env.LOG_FORMAT ? env.LOG_FORMAT === "pretty" : Boolean(process.stdout.isTTY);
  return createLogger({ level: env.LOG_LEVEL, pretty, base: { service } });
}

/** REDIS_URL, else `redis.url` from config; undefined means "embed one" (start only). */
export function redisUrlOf(loaded: LoadedConfig, env: Env): string | undefined {
  return env.REDIS_URL ?? loaded.config.redis.url;
}

export function requireRedisUrl(loaded: LoadedConfig, env: Env, command: string): string {
  const url = redisUrlOf(loaded, env);
  if (!url)
    throw new UsageError(`\`switchyard ${command}\` needs a shared Redis: set REDIS_URL (or redis.url in ${path.basename(loaded.file)})`);
  return url;
}

export function dataDirOf(loaded: LoadedConfig): string {
  return path.resolve(loaded.config.data_dir);
}
