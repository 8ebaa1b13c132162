import { closedLoop } from "./completions.mjs";
import { round, summarize } from "./stats.mjs";

/**
 * Latency at concurrency 1 (serial: where added milliseconds are meaningful) and throughput at
 * `concurrency` closed loops, after a warm-up. `call(i)` performs one operation.
 */
export async function latencyAndThroughput(call, { serial, load, concurrency, warmup }) {
  let i = 0;
  const op = () => call(i++);
  await closedLoop(warmup, Math.min(concurrency, 4), op);
  const one = await closedLoop(serial, 1, op);
  const many = await closedLoop(load, concurrency, op);
  return result(one, many);
}

/**
 * The same for several paths that are all up at once, measured so that they can be compared on a
 * noisy machine: every path is warmed up first, then the serial samples are taken in `rounds`
 * rounds, each path in turn (rotating the order), so a slow spell of the machine spreads over all
 * paths instead of landing on one; then each path's throughput. `paths` is [[name, call(i)], …];
 * returns [[name, result], …] in the same order.
 */
export async function comparePaths(paths, { serial, load, concurrency, warmup, rounds = 10 }) {
  let i = 0;
  const ops = paths.map(
    ([, call]) =>
      () =>
        call(i++),
  );
  for (const op of ops) await closedLoop(warmup, Math.min(concurrency, 4), op);
  const serialRuns = await interleavedSerial(ops, serial, rounds);
  const out = [];
  for (const [p, op] of ops.entries()) out.push([paths[p][0], result(serialRuns[p], await closedLoop(load, concurrency, op))]);
  return out;
}

/**
 * `total` serial (concurrency 1) operations of each of `ops`, taken in `rounds` rounds with the
 * order rotating each round, so a slow spell of a noisy machine spreads over every op.
 * Returns one {latencies, errors} per op.
 */
export async function interleavedSerial(ops, total, rounds = 10) {
  const runs = ops.map(() => ({ latencies: [], errors: [] }));
  const perRound = Math.ceil(total / rounds);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < ops.length; k++) {
      const p = (k + r) % ops.length;
      const run = await closedLoop(perRound, 1, ops[p]);
      runs[p].latencies.push(...run.latencies);
      runs[p].errors.push(...run.errors);
    }
  }
  return runs;
}

function result(one, many) {
  const errors = [...one.errors, ...many.errors];
  if (errors.length > 0) console.error(`  ${errors.length} errors, first: ${errors[0]}`);
  return {
    serial: summarize(one.latencies),
    load: summarize(many.latencies),
    perSecond: round((many.latencies.length / many.wallMs) * 1_000, 0),
    errors: errors.length,
  };
}

/** One table row per path; `added` is the serial p50 above the first (direct) row. */
export function comparisonRows(results, concurrency) {
  const base = results[0][1];
  return results.map(([name, r]) => ({
    path: name,
    "c=1 p50 ms": r.serial.p50,
    "c=1 p95 ms": r.serial.p95,
    "c=1 p99 ms": r.serial.p99,
    "added p50 ms": r === base ? "—" : round(r.serial.p50 - base.serial.p50, 2),
    [`c=${concurrency} req/s`]: r.perSecond,
    [`c=${concurrency} p50 ms`]: r.load.p50,
    errors: r.errors,
  }));
}
