#!/usr/bin/env node
// npm run bench [-- scenario…]: runs each scenario, prints its tables, writes bench/results/<name>.json.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const SCENARIOS = ["tasks", "tools", "llm", "workflows"];
const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const names = wanted.length > 0 ? wanted : SCENARIOS;
mkdirSync(path.join(here, "results"), { recursive: true });

for (const name of names) {
  if (!SCENARIOS.includes(name)) {
    console.error(`bench: unknown scenario '${name}' (known: ${SCENARIOS.join(", ")})`);
    process.exit(2);
  }
  const started = Date.now();
  const { run } = await import(`./scenarios/${name}.mjs`);
  const result = await run();
  const record = {
    scenario: name,
    at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.version },
    seconds: Math.round((Date.now() - started) / 1000),
    ...result,
  };
  writeFileSync(path.join(here, "results", `${name}.json`), `${JSON.stringify(record, null, 2)}\n`);
  console.log(`\n${name}: ${record.seconds} s, written to bench/results/${name}.json`);
}
