export * from "./connection.js";
export * from "./embedded.js";
export * from "./free-port.js";
