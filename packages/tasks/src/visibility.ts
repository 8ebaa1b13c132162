import type { SwitchyardConfig } from "@switchyard/config";

/**
 * Whether a tenant may see and use an agent (agents are shared unless scoped). An agent this
 * process's config does not know (registered at run time, or added to a worker's config file) is
 * judged by its live catalog entry, which carries the agent's tenant scope.
 */
export function agentVisibleTo(
  config: SwitchyardConfig,
  agent: string,
  tenant: string,
  live?: { tenants?: string[] | undefined } | undefined,
): boolean {
  const agentConfig = config.agents[agent];
  if (!agentConfig && !live) return false;
  const tenants = agentConfig ? agentConfig.tenants : live?.tenants;
  return !tenants || tenants.includes(tenant);
}
