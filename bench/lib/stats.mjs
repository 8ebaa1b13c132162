/** Percentiles of a list of numbers (ms), rounded for tables. */
export function summarize(samples) {
  if (samples.length === 0) return { n: 0, p50: NaN, p95: NaN, p99: NaN, mean: NaN };
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { n: sorted.length, p50: round(at(0.5)), p95: round(at(0.95)), p99: round(at(0.99)), mean: round(mean) };
}

export function round(value, digits = 2) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Prints rows as an aligned table. */
export function printTable(title, rows) {
  console.log(`\n${title}`);
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells) => cells.map((cell, i) => String(cell).padEnd(widths[i])).join("  ");
  console.log(line(columns));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const row of rows) console.log(line(columns.map((c) => row[c])));
}

/**
 * The target line for a queued synchronous call: its added p50, and how that splits into the
 * queue floor, the HTTP hop over it (bare API) and what Switchyard adds over the HTTP + queue floor.
 */
export function floorSummary(label, added, queueRow, httpRow) {
  const queue = queueRow["added p50 ms"];
  const http = httpRow["added p50 ms"];
  return {
    [`${label} added p50 ms`]: added,
    met: added <= 2,
    "queue floor adds": queue,
    "HTTP + queue floor adds": http,
    "Switchyard over HTTP + queue floor": round(added - http, 2),
  };
}
