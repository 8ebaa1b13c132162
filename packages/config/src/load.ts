import { readFileSync } from "node:fs";
import path from "node:path";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { type Env, substituteEnv } from "./env-subst.js";
import { ConfigError, type ConfigProblem, formatPath } from "./errors.js";
import { AGENT_TYPES, type AgentConfig, SwitchyardConfig } from "./schema.js";

export interface LoadedConfig {
  config: SwitchyardConfig;
  /** Absolute path of the file read. */
  file: string;
  /** Folder of the file: relative paths in the config resolve against it. */
  dir: string;
}

export interface LoadConfigOptions {
  env: Env;
}

/** Reads, substitutes and validates a config file. Throws {@link ConfigError}. */
export function loadConfigFile(file: string, options: LoadConfigOptions): LoadedConfig {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(absolute, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "file not found" : code === "EISDIR" ? "is a directory" : `cannot read (${code ?? "error"})`;
    throw new ConfigError(file, [{ path: "", message: why }]);
  }
  const config = parseConfigText(text, { ...options, file, json: absolute.endsWith(".json") });
  return { config, file: absolute, dir: path.dirname(absolute) };
}

export interface ParseConfigOptions extends LoadConfigOptions {
  /** Name used in error messages. */
  file: string;
  json?: boolean;
}

export function parseConfigText(text: string, options: ParseConfigOptions): SwitchyardConfig {
  const raw = options.json ? parseJson(text, options.file) : parseYaml(text, options.file);
  return parseConfigObject(raw ?? {}, options);
}

export function parseConfigObject(raw: unknown, options: ParseConfigOptions): SwitchyardConfig {
  const problems: ConfigProblem[] = [];
  const substituted = inferMcpTransports(substituteEnv(raw, options.env, problems));
  if (problems.length > 0) throw new ConfigError(options.file, problems);
  const parsed = SwitchyardConfig.safeParse(substituted);
  if (!parsed.success) throw new ConfigError(options.file, describeIssues(parsed.error.issues, substituted));
  checkReferences(parsed.data, options.file);
  return parsed.data;
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(file, [{ path: "", message: `invalid JSON: ${(error as Error).message}` }]);
  }
}

function parseYaml(text: string, file: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const [first] = doc.errors;
  if (first) {
    const line = first.linePos?.[0];
    const where = line ? ` at line ${line.line}, column ${line.col}` : "";
    throw new ConfigError(file, [{ path: "", message: `invalid YAML${where}: ${first.message.split("\n")[0]}` }]);
  }
  return doc.toJS();
}

/** `transport` may be left out of an MCP agent: `command` means stdio, `url` means http. */
function inferMcpTransports(doc: unknown): unknown {
  if (!isObject(doc) || !isObject(doc.agents)) return doc;
  for (const agent of Object.values(doc.agents)) {
    if (!isObject(agent) || agent.type !== "mcp" || agent.transport !== undefined) continue;
    if (typeof agent.command === "string") agent.transport = "stdio";
    else if (typeof agent.url === "string") agent.transport = "http";
  }
  return doc;
}

function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown): ConfigProblem[] {
  return issues.map((issue) => {
    const at = formatPath(issue.path);
    switch (issue.code) {
      case "unrecognized_keys": {
        const keys = issue.keys.map((k) => (at ? `${at}.${k}` : k));
        return { path: keys[0] ?? at, message: `unknown key${keys.length > 1 ? `s ${keys.join(", ")}` : ""}` };
      }
      case "invalid_union": {
        // Agent-level unions (type, then MCP transport) may report at the agent or at its key.
        const agentPath = issue.path[0] === "agents" && issue.path.length >= 2 ? issue.path.slice(0, 2) : undefined;
        const value = agentPath ? valueAt(input, agentPath) : undefined;
        if (agentPath && isObject(value)) {
          const at = formatPath(agentPath);
          if (value.type === undefined) return { path: `${at}.type`, message: `required (one of ${AGENT_TYPES.join(", ")})` };
          if (!AGENT_TYPES.includes(value.type as never))
            return {
              path: `${at}.type`,
              message: `unknown agent type '${String(value.type)}' (expected one of ${AGENT_TYPES.join(", ")})`,
            };
          if (value.type === "mcp")
            return { path: `${at}.transport`, message: "expected one of stdio, http, sse (or give `command` or `url`)" };
        }
        return { path: at, message: issue.message };
      }
      case "invalid_type": {
        const value = valueAt(input, issue.path);
        if (value === undefined) return { path: at, message: "required" };
        return { path: at, message: `expected ${issue.expected}, got ${describe(value)}` };
      }
      default:
        return { path: at, message: issue.message };
    }
  });
}

function checkReferences(config: SwitchyardConfig, file: string): void {
  const problems: ConfigProblem[] = [];
  for (const [name, agent] of Object.entries(config.agents)) {
    for (const [i, other] of (agent.fallback ?? []).entries()) {
      if (!(other in config.agents)) problems.push({ path: `agents.${name}.fallback[${i}]`, message: `unknown agent '${other}'` });
      else if (other === name) problems.push({ path: `agents.${name}.fallback[${i}]`, message: "an agent cannot fall back to itself" });
    }
  }
  // Tool names are `<prefix>.<tool>` with prefix = namespace or agent name: prefixes must be unique.
  const prefixes = new Map<string, string>();
  for (const [name, agent] of Object.entries(config.agents)) {
    const prefix = toolPrefixOf(name, agent);
    const other = prefixes.get(prefix);
    if (other !== undefined)
      problems.push({
        path: `agents.${name}${prefix === name ? "" : ".namespace"}`,
        message: `tool prefix '${prefix}' is already used by agent '${other}'`,
      });
    prefixes.set(prefix, name);
  }
  const seen = new Set<string>();
  for (const [i, key] of config.auth.keys.entries()) {
    if (seen.has(key.key)) problems.push({ path: `auth.keys[${i}].key`, message: "duplicate key" });
    seen.add(key.key);
  }
  if (problems.length > 0) throw new ConfigError(file, problems);
}

/** The prefix of an agent's tool names: its `namespace` (MCP agents) or its name. */
export function toolPrefixOf(name: string, agent: AgentConfig): string {
  return agent.type === "mcp" ? (agent.namespace ?? name) : name;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const part of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
