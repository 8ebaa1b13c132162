import { writeFileSync } from "node:fs";
import path from "node:path";
import { inject } from "vitest";

export interface ScenarioReport {
  scenario: string;
  operations: number;
  faults_injected?: number;
  tasks_accepted?: number;
  tasks_completed?: number;
  lost?: number;
  duplicates?: number;
  inputs_fuzzed?: number;
  violations?: number;
  [extra: string]: unknown;
}

/** Prints what a scenario did and counted, and files it for the suite's summary table. */
export function report(row: ScenarioReport): void {
  process.stdout.write(`\n[chaos] ${row.scenario}: ${JSON.stringify(row)}\n`);
  writeFileSync(path.join(inject("chaosReportDir"), `${Date.now()}-${row.scenario.replace(/\W+/g, "-")}.json`), JSON.stringify(row));
}
