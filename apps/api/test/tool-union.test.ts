import { joinToolsByName } from "@switchyard/api";
import { defineTool, type OrchestrationTool } from "@switchyard/core";
import { describe, expect, it } from "vitest";
import { z } from "zod";

const actor = { tenant: "acme", role: "operator" as const, key_id: "k" };

describe("joinToolsByName", () => {
  const backend = defineTool({
    name: "delegate_subtask",
    description: "run a backend tool",
    input: z.strictObject({ tool: z.string(), wait: z.boolean().default(false) }),
    role: "operator",
    handler: async (_actor, input) => ({ ran: input.tool, wait: input.wait }),
  });
  const participant = defineTool({
    name: "delegate_subtask",
    description: "hand a participant a task",
    input: z.strictObject({ title: z.string(), assignee: z.string().optional() }),
    role: "admin",
    handler: async (_actor, input) => ({ delegated: input.title }),
  });
  const other = defineTool({
    name: "other",
    description: "x",
    input: z.strictObject({}),
    role: "viewer",
    readOnly: true,
    handler: async () => "other",
  });

  it("keeps single tools and joins same-named ones into one union tool", async () => {
    const tools = joinToolsByName([backend, participant, other] as OrchestrationTool[]);
    expect(tools.map((t) => t.name)).toEqual(["delegate_subtask", "other"]);
    const [joined] = tools as [OrchestrationTool];
    expect(joined.role).toBe("operator");
    expect(joined.description).toContain("run a backend tool");
    expect(joined.description).toContain("hand a participant a task");
    const toBackend = joined.input.parse({ tool: "mock.echo" });
    expect(await joined.handler(actor, toBackend)).toEqual({ ran: "mock.echo", wait: false });
    // Each part keeps its own role.
    const toParticipant = joined.input.parse({ title: "t" });
    await expect(joined.handler(actor, toParticipant)).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await joined.handler({ ...actor, role: "admin" }, toParticipant)).toEqual({ delegated: "t" });
    expect(joined.input.safeParse({ tool: "x", title: "y" }).success).toBe(false);
    expect(z.toJSONSchema(joined.input, { io: "input" })).toMatchObject({
      type: "object",
      anyOf: [{ type: "object" }, { type: "object" }],
    });
  });
});
