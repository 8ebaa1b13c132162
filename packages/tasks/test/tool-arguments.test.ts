import type { JsonSchemaObject } from "@switchyard/core";
import { describe, expect, it } from "vitest";
import { ToolArgumentValidator } from "../src/tool-arguments.js";

const schema = (): JsonSchemaObject => ({
  type: "object",
  properties: { message: { type: "string" }, count: { type: "integer", minimum: 1 } },
  required: ["message"],
});

function failure(run: () => void): { message: string; details: unknown } {
  try {
    run();
  } catch (error) {
    const e = error as { code: string; message: string; details: unknown };
    expect(e.code).toBe("VALIDATION_FAILED");
    return { message: e.message, details: e.details };
  }
  throw new Error("expected a validation failure");
}

describe("ToolArgumentValidator", () => {
  it("accepts valid arguments and names the first bad field", () => {
    const validator = new ToolArgumentValidator();
    const s = schema();
    validator.validate("a.echo", s, { message: "hi", count: 2 });
    expect(failure(() => validator.validate("a.echo", s, { count: 2 })).message).toBe(
      "arguments.message: must have required property 'message' (tool a.echo)",
    );
    expect(failure(() => validator.validate("a.echo", s, { message: "hi", count: 0 })).message).toMatch(/^arguments\.count: must be >= 1/);
  });

  it("validates against each schema object it is given, also when a cached one has the same text", () => {
    const validator = new ToolArgumentValidator();
    const first = schema();
    validator.validate("a.echo", first, { message: "hi" });
    // A catalog refresh hands out a new object with a changed schema: the new rules apply at once.
    const changed = { ...schema(), required: ["message", "count"] };
    expect(failure(() => validator.validate("a.echo", changed, { message: "hi" })).message).toMatch(/arguments\.count/);
    // The old object still validates with its own rules, and an equal new object like the old one.
    validator.validate("a.echo", first, { message: "hi" });
    validator.validate("a.echo", schema(), { message: "hi" });
  });

  it("does not enforce a schema Ajv cannot compile (the tool still validates)", () => {
    const validator = new ToolArgumentValidator();
    const broken = { type: "object", properties: { x: { type: "no-such-type" } } } as unknown as JsonSchemaObject;
    validator.validate("a.echo", broken, { x: 1 });
    validator.validate("a.echo", broken, { x: 1 });
  });
});
