import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { SwitchyardConfig } from "@switchyard/config";
import type { Logger } from "@switchyard/observability";
import type { WorkflowService } from "@switchyard/workflow";

/**
 * Defines every workflow file of `workflows_dir` (*.yaml, *.yml, *.json) for each tenant the api
 * serves keys for (config keys and a generated admin key alike). An unchanged file defines
 * nothing new; a changed one becomes a new version.
 */
export async function loadWorkflowsDir(
  workflows: WorkflowService,
  config: SwitchyardConfig,
  tenants: readonly string[],
  baseDir: string,
  log: Logger,
): Promise<void> {
  if (!config.workflows_dir) return;
  const dir = path.resolve(baseDir, config.workflows_dir);
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => /\.(ya?ml|json)$/i.test(f)).sort();
  } catch (error) {
    log.warn({ dir, err: (error as Error).message }, "workflows_dir not readable");
    return;
  }
  for (const file of files) {
    const text = await readFile(path.join(dir, file), "utf8");
    for (const tenant of tenants) {
      try {
        const defined = await workflows.define({ tenant, key_id: "workflows_dir" }, text);
        log.info({ file, tenant, workflow: defined.name, version: defined.version }, "workflow loaded");
      } catch (error) {
        log.warn({ file, tenant, err: (error as Error).message }, "workflow not loaded");
      }
    }
  }
}
