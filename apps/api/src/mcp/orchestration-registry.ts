import { NonRetryableError, type OrchestrationTool, SAFE_TOOL_SEPARATOR } from "@switchyard/core";

/**
 * The orchestration tools `/mcp` offers next to the aggregated agent tools. Other features append
 * theirs (`registry.add(defineTool({...}))` in api-service.ts). Names are snake_case and never
 * contain `__`, which every aggregated tool name (`<agent>__<tool>`) does: the two sets cannot
 * collide.
 */
export class OrchestrationToolRegistry {
  private readonly tools = new Map<string, OrchestrationTool>();

  add(...tools: OrchestrationTool[]): this {
    for (const tool of tools) {
      if (!/^[a-z][a-z0-9_]*$/.test(tool.name) || tool.name.includes(SAFE_TOOL_SEPARATOR))
        throw new Error(`orchestration tool name '${tool.name}' must be snake_case without '__'`);
      if (this.tools.has(tool.name)) throw new Error(`orchestration tool '${tool.name}' is already registered`);
      this.tools.set(tool.name, tool);
    }
    return this;
  }

  get(name: string): OrchestrationTool | undefined {
    return this.tools.get(name);
  }

  list(): OrchestrationTool[] {
    return [...this.tools.values()];
  }

  require(name: string): OrchestrationTool {
    const tool = this.get(name);
    if (!tool) throw new NonRetryableError("TOOL_NOT_FOUND", `no orchestration tool '${name}'`);
    return tool;
  }
}
