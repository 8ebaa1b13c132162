export * from "./env-subst.js";
export * from "./errors.js";
export * from "./load.js";
export * from "./redact.js";
export * from "./schema.js";
export * from "./watch.js";
