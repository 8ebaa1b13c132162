/** Plain aligned columns (no colour when not a terminal, no dependency). */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return `${cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ")).join("\n")}\n`;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

const SYMBOL: Record<string, string> = {
  pending: "·",
  queued: "·",
  waiting: "…",
  running: "▶",
  completed: "✓",
  failed: "✗",
  skipped: "-",
  cancelled: "⊘",
};

export interface RunSnapshot {
  run_id: string;
  workflow: string;
  status: string;
  steps: Array<{ step_id: string; status: string; attempts?: number; started_at?: string | null; finished_at?: string | null }>;
}

/** A run in a few lines: header, then one line per step with its state and duration. */
export function renderRun(run: RunSnapshot, now = Date.now()): string[] {
  const done = run.steps.filter((s) => ["completed", "skipped"].includes(s.status)).length;
  const lines = [`run ${run.run_id} (${run.workflow}): ${run.status}  [${done}/${run.steps.length} steps]`];
  const width = Math.max(0, ...run.steps.map((s) => s.step_id.length));
  for (const step of run.steps) {
    const started = step.started_at ? Date.parse(step.started_at) : undefined;
    const finished = step.finished_at ? Date.parse(step.finished_at) : undefined;
    const seconds = started ? ((finished ?? now) - started) / 1_000 : undefined;
    lines.push(
      `  ${SYMBOL[step.status] ?? "?"} ${step.step_id.padEnd(width)}  ${step.status}${seconds !== undefined ? `  ${seconds.toFixed(1)}s` : ""}${
        (step.attempts ?? 0) > 1 ? `  (attempt ${step.attempts})` : ""
      }`,
    );
  }
  return lines;
}

/**
 * Shows a changing run: on a terminal the block is redrawn in place; otherwise each change of
 * the run's or a step's state is printed once, as a line (logs and CI stay readable).
 */
export class RunProgress {
  private drawn = 0;
  private readonly seen = new Map<string, string>();
  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly tty = Boolean(out.isTTY),
  ) {}

  update(run: RunSnapshot): void {
    if (this.tty) {
      const lines = renderRun(run);
      if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A`);
      for (const line of lines) this.out.write(`\x1b[2K${line}\n`);
      this.drawn = lines.length;
      return;
    }
    const changes: string[] = [];
    for (const step of run.steps) {
      if (this.seen.get(step.step_id) === step.status) continue;
      this.seen.set(step.step_id, step.status);
      changes.push(`step ${step.step_id} ${step.status}`);
    }
    // The run's line after its steps': a run finishes in the same transition as its last step.
    if (this.seen.get("") !== run.status) {
      this.seen.set("", run.status);
      changes.push(`run ${run.run_id} ${run.status}`);
    }
    for (const line of changes) this.out.write(`${line}\n`);
  }
}
