export * from "./circuit-breaker.js";
export * from "./client.js";
export * from "./result-cache.js";
export * from "./transport.js";
