export * from "./processor.js";
export * from "./worker-service.js";
