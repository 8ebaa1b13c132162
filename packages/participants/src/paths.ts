import path from "node:path";
import { NonRetryableError } from "@switchyard/core";

/**
 * A lock path relative to the shared workspace root, in one canonical spelling: `a/../b`,
 * `./b`, `/b` and `b/` are all `b`. Paths that leave the root (`../x`) are refused.
 */
export function normalizeLockPath(input: string): string {
  const slashed = input.replace(/\\/g, "/").trim();
  if (slashed.length === 0 || slashed.includes("\0")) throw invalid(input, "is empty or contains NUL");
  const normalized = path.posix.normalize(`/${slashed}`);
  // Normalizing an absolute path clamps `..` at the root; detect escapes on the relative form.
  const relative = path.posix.normalize(slashed.replace(/^\/+/, ""));
  if (relative === ".." || relative.startsWith("../")) throw invalid(input, "leaves the workspace root");
  const canonical = normalized.replace(/^\/+/, "").replace(/\/+$/, "");
  if (canonical.length === 0 || canonical === ".") throw invalid(input, "names the workspace root itself");
  if (canonical.length > 1024) throw invalid(input, "is longer than 1024 characters");
  return canonical;
}

function invalid(input: string, why: string): NonRetryableError {
  return new NonRetryableError("VALIDATION_FAILED", `path ${JSON.stringify(input.slice(0, 200))} ${why}`, {
    details: { field: "path" },
  });
}
