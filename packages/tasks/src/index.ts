export * from "./agent-directory.js";
export * from "./create-task-service.js";
export * from "./scheduler.js";
export * from "./task-calls.js";
export * from "./task-events.js";
export * from "./task-service.js";
export * from "./tool-arguments.js";
export * from "./visibility.js";
