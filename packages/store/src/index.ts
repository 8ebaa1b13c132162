export * from "./catalog.js";
export * from "./keys.js";
export * from "./task-index.js";
