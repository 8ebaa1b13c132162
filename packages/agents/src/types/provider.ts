import type { AnthropicAgentConfig, OpenAIAgentConfig } from "@switchyard/config";
import type { ToolDescriptor } from "@switchyard/core";
import { LlmAgent } from "@switchyard/providers";
import type { AgentClient, AgentClientDeps, AgentHealth, ToolCallContext } from "../agent-client.js";

/**
 * The `openai` (any OpenAI-compatible endpoint) and `anthropic` agent types. The provider logic
 * (SDKs, translation, retries, shared circuit breaker, fallback, usage, agent runs) lives in
 * @switchyard/providers; this adapts it to the AgentClient contract.
 */
export class ProviderAgentClient implements AgentClient {
  readonly llm: LlmAgent;

  constructor(
    readonly name: string,
    config: OpenAIAgentConfig | AnthropicAgentConfig,
    deps: AgentClientDeps,
  ) {
    this.llm = new LlmAgent(name, config, {
      redis: deps.redis,
      prefix: deps.prefix,
      breakers: deps.breakers,
      accounting: deps.accounting,
      childTasks: deps.childTasks,
      onProviderUsage: deps.onProviderUsage,
      logger: deps.logger,
      siblings: (other) => {
        const client = deps.agents?.(other);
        return client instanceof ProviderAgentClient ? client.llm : undefined;
      },
    });
  }

  get type(): "openai" | "anthropic" {
    return this.llm.config.type;
  }

  async start(): Promise<void> {}

  listTools(): ToolDescriptor[] {
    return this.llm.listTools();
  }

  callTool(tool: string, args: Record<string, unknown>, context: ToolCallContext): Promise<unknown> {
    return this.llm.callTool(tool, args, context);
  }

  health(): AgentHealth {
    return { status: "ok" };
  }

  async close(): Promise<void> {}
}
