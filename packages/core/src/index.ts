export * from "./errors.js";
export * from "./ids.js";
export * from "./names.js";
export * from "./orchestration-tool.js";
export * from "./schemas/api.js";
export * from "./schemas/events.js";
export * from "./schemas/task.js";
export * from "./schemas/tool.js";
