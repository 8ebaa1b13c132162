import { z } from "zod";

/**
 * The process environment, parsed once at start-up. This is the only file in Switchyard that
 * reads `process.env`; everything else receives options. (Config `${VAR}` substitution gets the
 * environment passed in from here.)
 */
const Env = z.object({
  REDIS_URL: z.string().min(1).optional(),
  SWITCHYARD_CONFIG: z.string().min(1).optional(),
  REDIS_SERVER_BIN: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  /** `pretty` or `json`; default: pretty on a terminal, JSON otherwise. */
  LOG_FORMAT: z.enum(["pretty", "json"]).optional(),
  SWITCHYARD_URL: z.string().url().optional(),
  SWITCHYARD_API_KEY: z.string().min(1).optional(),
  PATH: z.string().optional(),
});
export type Env = z.infer<typeof Env>;

export function readEnv(): { env: Env; raw: Readonly<Record<string, string | undefined>> } {
  const parsed = Env.safeParse(process.env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EnvError(`environment: ${issue?.path.join(".")}: ${issue?.message}`);
  }
  return { env: parsed.data, raw: process.env };
}

export class EnvError extends Error {
  override name = "EnvError";
}
