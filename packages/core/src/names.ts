import { z } from "zod";

/**
 * Agent names are the first half of every tool name (`<agent>.<tool>`), a path segment in the
 * REST API and part of a Redis key, so they are short, lower-case and dot-free.
 */
export const AGENT_NAME_PATTERN = /^(?=.{1,63}$)[a-z](?:[a-z0-9-]|_(?=[a-z0-9-]))*$/;
export const AgentName = z
  .string()
  .regex(
    AGENT_NAME_PATTERN,
    "must be lower-case letters, digits, '_' or '-', starting with a letter, no '__' and not ending in '_' (max 63)",
  );
export type AgentName = z.infer<typeof AgentName>;

/** Tool names come from MCP servers and config; anything printable without a dot or slash. */
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_\-:]{0,127}$/;
export const ToolName = z.string().regex(TOOL_NAME_PATTERN, "must be 1-128 of letters, digits, '_', '-' or ':'");
export type ToolName = z.infer<typeof ToolName>;

export const TENANT_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const TenantId = z.string().regex(TENANT_PATTERN, "must be 1-64 of letters, digits, '_' or '-'");
export type TenantId = z.infer<typeof TenantId>;

export const ROLES = ["admin", "operator", "viewer"] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

/** `<agent>.<tool>`: the one place that knows the separator. */
export function qualifiedToolName(agent: string, tool: string): string {
  return `${agent}.${tool}`;
}

export function splitQualifiedToolName(name: string): { agent: string; tool: string } | undefined {
  const dot = name.indexOf(".");
  if (dot <= 0 || dot === name.length - 1) return undefined;
  return { agent: name.slice(0, dot), tool: name.slice(dot + 1) };
}

/** Separator of the provider-safe form: MCP clients and LLM providers that forbid dots. */
export const SAFE_TOOL_SEPARATOR = "__";

/**
 * `<agent>__<tool>`, for names offered where a dot is not allowed (the `/mcp` endpoint, LLM
 * function names). Injective because an agent name never contains `__` and never ends in `_`
 * ({@link AGENT_NAME_PATTERN}): the first `__` in the result is always the separator.
 */
export function safeToolName(agent: string, tool: string): string {
  return `${agent}${SAFE_TOOL_SEPARATOR}${tool}`;
}

export function splitSafeToolName(name: string): { agent: string; tool: string } | undefined {
  const at = name.indexOf(SAFE_TOOL_SEPARATOR);
  if (at <= 0 || at + SAFE_TOOL_SEPARATOR.length >= name.length) return undefined;
  return { agent: name.slice(0, at), tool: name.slice(at + SAFE_TOOL_SEPARATOR.length) };
}
