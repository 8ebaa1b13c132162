export * from "./api-service.js";
export * from "./app.js";
export * from "./auth.js";
export * from "./http-errors.js";
export * from "./mcp/index.js";
export * from "./participant-keys.js";
export * from "./participant-tooling.js";
export * from "./ui/ui-router.js";
