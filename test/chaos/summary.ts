import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    chaosReportDir: string;
  }
}

const COLUMNS = [
  "scenario",
  "operations",
  "faults_injected",
  "tasks_accepted",
  "tasks_completed",
  "lost",
  "duplicates",
  "inputs_fuzzed",
  "violations",
] as const;

/** Collects each scenario's counts and prints one table when the suite ends. */
export default function setup(project: TestProject) {
  const dir = mkdtempSync(path.join(tmpdir(), "sy-chaos-report-"));
  project.provide("chaosReportDir", dir);
  return () => {
    const rows = readdirSync(dir)
      .sort()
      .map((file) => JSON.parse(readFileSync(path.join(dir, file), "utf8")) as Record<string, unknown>);
    const widths = COLUMNS.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? "-").length)));
    const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ");
    const out = ["", "Chaos suite summary", line([...COLUMNS]), line(widths.map((w) => "-".repeat(w)))];
    for (const row of rows) out.push(line(COLUMNS.map((c) => String(row[c] ?? "-"))));
    const lost = rows.reduce((a, r) => a + Number(r.lost ?? 0), 0);
    const violations = rows.reduce((a, r) => a + Number(r.violations ?? 0), 0);
    out.push("", `total lost: ${lost}, total violations: ${violations}`, "");
    process.stdout.write(`${out.join("\n")}\n`);
    rmSync(dir, { recursive: true, force: true });
  };
}
