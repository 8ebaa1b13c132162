export const REDACTED = "[redacted]";

/** Keys whose values are secrets wherever they appear. */
const SECRET_KEYS = new Set(["api_key", "auth_token", "key", "token", "password", "secret", "client_secret"]);
/** Keys whose every value is treated as secret (headers, child process environments). */
const SECRET_MAPS = new Set(["headers", "env"]);

/**
 * A deep copy with secrets replaced, for any dump of configuration (CLI, logs, API). Errs on the
 * side of hiding: every header value and every env value of a child process is hidden.
 */
export function redactSecrets<T>(value: T): T {
  return redact(value, false) as T;
}

function redact(value: unknown, hideAll: boolean): unknown {
  if (Array.isArray(value)) return value.map((item) => redact(item, hideAll));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (hideAll || SECRET_KEYS.has(key)) out[key] = typeof item === "object" && item !== null ? redact(item, true) : REDACTED;
      else out[key] = redact(item, SECRET_MAPS.has(key));
    }
    return out;
  }
  return hideAll ? REDACTED : value;
}

/** Every secret string in a config, so callers can scrub free text (e.g. upstream error messages). */
export function collectSecrets(value: unknown, hideAll = false, out: Set<string> = new Set()): Set<string> {
  if (typeof value === "string") {
    if (hideAll && value.length >= 4) out.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collectSecrets(item, hideAll, out);
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      collectSecrets(item, hideAll || SECRET_KEYS.has(key) || SECRET_MAPS.has(key), out);
    }
  }
  return out;
}
