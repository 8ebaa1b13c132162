#!/usr/bin/env node
// Makes a fresh clone runnable: installs dependencies when they are missing or stale, then
// builds (tsc -b is incremental: a no-op when nothing changed). No dependencies of its own.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`switchyard: Node ${process.versions.node} is too old: Node 20.19 or newer is required`);
  process.exit(2);
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const lock = path.join(root, "package-lock.json");
const installed = path.join(root, "node_modules", ".package-lock.json");
if (!existsSync(installed) || statSync(lock).mtimeMs > statSync(installed).mtimeMs) {
  console.error("switchyard: installing dependencies…");
  run(process.execPath, [path.join(root, "scripts", "install-deps.mjs")]);
}
run(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-b", "tsconfig.build.json"]);
