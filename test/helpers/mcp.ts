import path from "node:path";
import { ROOT } from "./stack.js";

/** Switchyard's own MCP test server (crash, hang, slow, garbage, list_changed). */
export const FIXTURE_SERVER = path.join(ROOT, "test/fixtures/mcp-fixture-server.mjs");
