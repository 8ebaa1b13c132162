export * from "./abortable.js";
export * from "./agent-client.js";
export * from "./registry.js";
export * from "./types/mcp.js";
export * from "./types/mock.js";
export * from "./types/provider.js";
export * from "./types/rest.js";
