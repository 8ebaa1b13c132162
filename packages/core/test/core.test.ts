import {
  CancelledError,
  decodeFailure,
  encodeFailure,
  NonRetryableError,
  newId,
  RetryableError,
  splitQualifiedToolName,
  TimeoutError,
  toSwitchyardError,
} from "@switchyard/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

describe("ids", () => {
  it("sort by creation time and never collide", () => {
    const ids = Array.from({ length: 1_000 }, (_, i) => newId("tsk", 1_700_000_000_000 + i * 7));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toMatch(/^tsk_[0-9a-z]{26}$/);
  });
});

describe("errors", () => {
  it("carry retryability as a property", () => {
    expect(new NonRetryableError("TOOL_ERROR", "x").retryable).toBe(false);
    expect(new RetryableError("TOOL_ERROR", "x", { retryAfterMs: 5 })).toMatchObject({ retryable: true, retryAfterMs: 5 });
    expect(new TimeoutError(10)).toMatchObject({ code: "TIMEOUT", retryable: true });
    expect(new CancelledError()).toMatchObject({ code: "CANCELLED", retryable: false });
  });

  it("round-trip through BullMQ's failedReason string", () => {
    fc.assert(
      fc.property(fc.constantFrom("TIMEOUT", "TOOL_ERROR", "CANCELLED"), fc.string(), (code, message) => {
        expect(decodeFailure(encodeFailure({ code, message }))).toEqual({ code, message });
      }),
    );
    expect(decodeFailure("something else")).toEqual({ code: "INTERNAL", message: "something else" });
    expect(decodeFailure(undefined)).toBeUndefined();
  });

  it("unknown throwables become retryable INTERNAL errors", () => {
    expect(toSwitchyardError(new Error("boom"))).toMatchObject({ code: "INTERNAL", retryable: true, message: "boom" });
    const abort = new Error("aborted");
    abort.name = "AbortError";
    expect(toSwitchyardError(abort).code).toBe("CANCELLED");
  });
});

describe("qualified tool names", () => {
  it("split at the first dot only", () => {
    expect(splitQualifiedToolName("fs.read_file")).toEqual({ agent: "fs", tool: "read_file" });
    expect(splitQualifiedToolName("a.b.c")).toEqual({ agent: "a", tool: "b.c" });
    expect(splitQualifiedToolName("nodot")).toBeUndefined();
    expect(splitQualifiedToolName(".x")).toBeUndefined();
  });
});
