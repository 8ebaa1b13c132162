import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * The generated admin key of a laptop install: made once, kept in `<data_dir>/admin.key`
 * (mode 0600) and reused, so curl examples keep working across restarts.
 */
export function loadOrCreateAdminKey(dataDir: string): { key: string; file: string; created: boolean } {
  const file = path.join(dataDir, "admin.key");
  try {
    const key = readFileSync(file, "utf8").trim();
    if (key.length >= 16) return { key, file, created: false };
  } catch {
    // not there yet
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = `sy_${randomBytes(24).toString("base64url")}`;
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { key, file, created: true };
}
