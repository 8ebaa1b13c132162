import { type ConfigProblem, formatPath } from "./errors.js";

export type Env = Readonly<Record<string, string | undefined>>;

// ${NAME} or ${NAME:-default}; $${ escapes a literal "${".
const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed document. Substitution runs
 * after parsing, so a value can never change the document's structure, and each unset variable
 * is reported with the key path that needed it.
 */
export function substituteEnv(value: unknown, env: Env, problems: ConfigProblem[], path: PropertyKey[] = []): unknown {
  if (typeof value === "string") return substituteString(value, env, problems, path);
  if (Array.isArray(value)) return value.map((item, i) => substituteEnv(item, env, problems, [...path, i]));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = substituteEnv(item, env, problems, [...path, key]);
    return out;
  }
  return value;
}

function substituteString(text: string, env: Env, problems: ConfigProblem[], path: PropertyKey[]): string {
  return text.replace(PATTERN, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === "$${") return "${";
    const key = name as string;
    const set = env[key];
    if (set !== undefined && set !== "") return set;
    if (fallback !== undefined) return fallback;
    problems.push({ path: formatPath(path), message: `environment variable ${key} is not set (use \${${key}:-default} for a default)` });
    return "";
  });
}
