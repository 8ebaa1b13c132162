export * from "./backoff.js";
export * from "./names.js";
export * from "./task-options.js";
export * from "./task-queues.js";
export * from "./task-view.js";
