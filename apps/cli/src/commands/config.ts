import { redactSecrets } from "@switchyard/config";
import { stringify } from "yaml";
import type { Env } from "../env.js";
import { type GlobalOptions, loadConfig } from "../runtime.js";

/** `switchyard config check [--print]`: validates; prints the resolved config with secrets hidden. */
export function configCheckCommand(
  options: GlobalOptions & { print?: boolean; json?: boolean },
  env: Env,
  raw: Readonly<Record<string, string | undefined>>,
): void {
  const loaded = loadConfig(options, env, raw);
  const agents = Object.keys(loaded.config.agents);
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ ok: true, file: loaded.file, agents, ...(options.print ? { config: redactSecrets(loaded.config) } : {}) })}\n`,
    );
    return;
  }
  process.stdout.write(`${loaded.file}: ok (${agents.length} agent${agents.length === 1 ? "" : "s"}: ${agents.join(", ") || "none"})\n`);
  if (options.print) process.stdout.write(stringify(redactSecrets(loaded.config)));
}
