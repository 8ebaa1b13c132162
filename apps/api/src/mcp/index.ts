export * from "./mcp-router.js";
export * from "./mcp-server.js";
export * from "./orchestration-registry.js";
export * from "./orchestration-tools.js";
