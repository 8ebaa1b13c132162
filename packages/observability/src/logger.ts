import { type Logger, type LoggerOptions, pino } from "pino";
import { currentLogContext } from "./log-context.js";

export type { Logger } from "pino";

/**
 * Paths pino censors before a line is written. Secrets are kept out of log calls in the first
 * place; this is the net under that rule (an error object carrying a request, a config dump).
 */
export const REDACT_PATHS = [
  "api_key",
  "*.api_key",
  "*.*.api_key",
  "auth_token",
  "*.auth_token",
  "*.*.auth_token",
  "token",
  "*.token",
  "password",
  "*.password",
  "key",
  "*.key",
  "authorization",
  "*.authorization",
  "headers",
  "*.headers",
  "*.*.headers",
  "req.headers.authorization",
  "req.headers.cookie",
  "req.headers['x-api-key']",
  "config.headers",
  "*.*.authorization",
  "cookie",
  "*.cookie",
  "secret",
  "*.secret",
  "client_secret",
  "*.client_secret",
  "env",
  "*.env",
];

export interface CreateLoggerOptions {
  level?: string;
  /** Human-readable output (when stdout is a terminal). */
  pretty?: boolean;
  /** Fields on every line, e.g. `{ service: "worker", worker_id }`. */
  base?: Record<string, unknown>;
  /** Write here instead of stdout (tests capture lines this way). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? "info",
    base: { pid: process.pid, ...options.base },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // request/task/run ids of the work this line belongs to (see withLogContext).
    mixin: () => currentLogContext() as Record<string, unknown>,
  };
  if (options.destination) return pino(config, options.destination as pino.DestinationStream);
  if (options.pretty) {
    return pino({
      ...config,
      transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" } },
    });
  }
  return pino(config);
}

/** A logger that writes nothing, for tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
