export * from "./task-service.js";
export * from "./tool-arguments.js";
export * from "./visibility.js";
