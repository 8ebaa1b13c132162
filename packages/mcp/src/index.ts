export * from "./client.js";
export * from "./transport.js";
