export * from "./agent-registry.js";
export * from "./catalog.js";
export * from "./catalog-cache.js";
export * from "./keys.js";
export * from "./task-index.js";
