import { newId } from "@switchyard/core";
import type { CatalogStore, TaskIndex } from "@switchyard/store";

export interface HousekeepingDeps {
  catalog: CatalogStore;
  index: TaskIndex;
  retentionSeconds: number;
}

export interface HousekeepingReport {
  dropped_agents: string[];
  trimmed_index_entries: number;
}

/**
 * One sweep: drop catalog claims of workers that stopped heartbeating, and index entries of
 * tasks past retention (BullMQ already removed the jobs themselves). Idempotent, so any number
 * of coordinators may run it.
 */
export async function sweep(deps: HousekeepingDeps, now = Date.now()): Promise<HousekeepingReport> {
  const dropped = await deps.catalog.prune(60_000, now);
  // An id made for the cutoff instant sorts before every id created after it.
  const cutoff = newId("tsk", now - deps.retentionSeconds * 1_000).slice(0, 14);
  let trimmed = 0;
  for (const tenant of await deps.index.tenants()) trimmed += await deps.index.trimBefore(tenant, cutoff);
  return { dropped_agents: dropped, trimmed_index_entries: trimmed };
}
