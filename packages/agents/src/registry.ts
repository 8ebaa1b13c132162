import type { AgentConfig } from "@switchyard/config";
import type { AgentClient, AgentClientDeps } from "./agent-client.js";
import { McpAgentClient } from "./types/mcp.js";
import { MockAgentClient } from "./types/mock.js";
import { ProviderAgentClient } from "./types/provider.js";
import { RestAgentClient } from "./types/rest.js";

export class UnsupportedAgentTypeError extends Error {
  constructor(type: string) {
    super(`agent type '${type}' is not supported by this worker build`);
    this.name = "UnsupportedAgentTypeError";
  }
}

/** The one place that maps a config `type` to its client. */
export function createAgentClient(name: string, config: AgentConfig, deps: AgentClientDeps): AgentClient {
  switch (config.type) {
    case "mock":
      return new MockAgentClient(name, config);
    case "mcp":
      return new McpAgentClient(name, config, deps);
    case "rest":
      return new RestAgentClient(name, config);
    case "openai":
    case "anthropic":
      return new ProviderAgentClient(name, config, deps);
    default: {
      const never: never = config;
      throw new UnsupportedAgentTypeError((never as { type: string }).type);
    }
  }
}
