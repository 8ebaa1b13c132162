import { NonRetryableError, type OrchestrationTool, type Role } from "@switchyard/core";
import { z } from "zod";

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/**
 * Joins orchestration tools that share a name into one whose input is the union of theirs: a
 * call goes to the first tool whose schema accepts the arguments. Two features may offer the same
 * verb for different things (`delegate_subtask` runs a backend tool's subtask in the workflow
 * engine and hands a participant agent a task here); their inputs are disjoint strict objects, so
 * MCP clients see one tool with `anyOf` and each call still reaches the right handler.
 */
export function joinToolsByName(tools: readonly OrchestrationTool[]): OrchestrationTool[] {
  const byName = new Map<string, OrchestrationTool[]>();
  for (const tool of tools) byName.set(tool.name, [...(byName.get(tool.name) ?? []), tool]);
  return [...byName.values()].map((group) => (group.length === 1 ? (group[0] as OrchestrationTool) : joined(group)));
}

function joined(group: OrchestrationTool[]): OrchestrationTool {
  const [first, second, ...rest] = group as [OrchestrationTool, OrchestrationTool, ...OrchestrationTool[]];
  return {
    name: first.name,
    description: group.map((tool) => tool.description).join(" — or — "),
    // MCP wants an object at the top of a tool's input schema: `anyOf` of objects is one.
    input: z.union([first.input, second.input, ...rest.map((tool) => tool.input)]).meta({ type: "object" }),
    // The joined tool needs the lowest role of its parts; each part still checks its own below.
    role: group.map((tool) => tool.role).reduce((a, b) => (RANK[a] <= RANK[b] ? a : b)),
    readOnly: group.every((tool) => tool.readOnly === true),
    handler: async (actor, input, signal) => {
      for (const tool of group) {
        const parsed = tool.input.safeParse(input);
        if (!parsed.success) continue;
        if (RANK[actor.role] < RANK[tool.role]) throw new NonRetryableError("FORBIDDEN", `${tool.name} requires the ${tool.role} role`);
        return tool.handler(actor, parsed.data, signal);
      }
      // The union already validated the input, so one part accepts it.
      throw new Error(`no part of ${first.name} accepts the input`);
    },
  };
}
