#!/usr/bin/env node
// Installs dependencies exactly as package-lock.json says: `npm ci`.
//
// One known npm bug gets a fallback (npm/cli#9846): when a registry lacks some other platform's
// optional binary (e.g. @biomejs/cli-win32-x64), `npm install` omits it from the lock and
// `npm ci` then rejects that very lock as "Missing: … from lock file". Only in that case — every
// missing entry an optional platform package — we run `npm install --no-save`, which still
// installs the locked versions and changes no file.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const flags = ["--no-audit", "--no-fund"];
const PLATFORM_OPTIONAL = /^(@biomejs\/cli-|@msgpackr-extract\/msgpackr-extract-|@esbuild\/|@rollup\/rollup-|@img\/sharp-)/;

const ci = spawnSync("npm", ["ci", ...flags], { cwd: root, encoding: "utf8", stdio: ["ignore", "inherit", "pipe"] });
if (ci.status === 0) process.exit(0);
const missing = [...(ci.stderr ?? "").matchAll(/Missing: (\S+?)@\S* from lock file/g)].map((m) => m[1]);
if (missing.length > 0 && missing.every((name) => PLATFORM_OPTIONAL.test(name))) {
  console.error(`install-deps: npm ci rejected the lock for unavailable optional platform packages (${missing.length}); see npm/cli#9846.`);
  console.error("install-deps: installing the locked versions with npm install --no-save instead.");
  const install = spawnSync("npm", ["install", "--no-save", ...flags], { cwd: root, stdio: "inherit" });
  process.exit(install.status ?? 1);
}
process.stderr.write(ci.stderr ?? "");
process.exit(ci.status ?? 1);
