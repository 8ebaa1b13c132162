export * from "./coordinator-service.js";
export * from "./housekeeping.js";
