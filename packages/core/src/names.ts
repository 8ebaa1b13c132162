import { z } from "zod";

/**
 * Agent names are the first half of every tool name (`<agent>.<tool>`), a path segment in the
 * REST API and part of a Redis key, so they are short, lower-case and dot-free.
 */
export const AGENT_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;
export const AgentName = z
  .string()
  .regex(AGENT_NAME_PATTERN, "must be lower-case letters, digits, '_' or '-', starting with a letter (max 63)");
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
