export * from "./agent-registry.js";
export * from "./catalog.js";
export * from "./catalog-cache.js";
export * from "./circuit-breaker.js";
export * from "./keys.js";
export * from "./rate-budget.js";
export * from "./task-index.js";
export * from "./usage.js";
