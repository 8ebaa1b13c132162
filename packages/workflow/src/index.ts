export * from "./context-store.js";
export * from "./machine.js";
export * from "./run-store.js";
export * from "./schema.js";
export * from "./service.js";
export * from "./template.js";
export * from "./validate.js";
export * from "./view.js";
