import type { SwitchyardConfig } from "@switchyard/config";

/** Whether a tenant may see and use an agent (agents are shared unless scoped in config). */
export function agentVisibleTo(config: SwitchyardConfig, agent: string, tenant: string): boolean {
  const agentConfig = config.agents[agent];
  if (!agentConfig) return false;
  return !agentConfig.tenants || agentConfig.tenants.includes(tenant);
}
