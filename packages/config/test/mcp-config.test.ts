import { ConfigError, parseConfigText } from "@switchyard/config";
import { AGENT_NAME_PATTERN, safeToolName, splitSafeToolName } from "@switchyard/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const parse = (text: string, env: Record<string, string> = {}) => parseConfigText(text, { env, file: "test.yaml" });
const problems = (text: string) => {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe("MCP agent config", () => {
  it("fills lifecycle defaults and per-tool cache policies; headers and bearer come from ${ENV}", () => {
    const config = parse(
      [
        "agents:",
        "  kb:",
        "    type: mcp",
        "    url: https://mcp.example.com/mcp",
        "    auth_token: ${KB_TOKEN}",
        "    headers:",
        "      X-Team: ${TEAM:-core}",
        "    tools:",
        "      search: { read_only: true, cache_ttl_ms: 60000 }",
      ].join("\n"),
      { KB_TOKEN: "tok-123" },
    );
    const kb = config.agents.kb;
    expect(kb).toMatchObject({
      transport: "http",
      auth_token: "tok-123",
      headers: { "X-Team": "core" },
      tools: { search: { read_only: true, cache_ttl_ms: 60_000 } },
      ping_interval_ms: 15_000,
      ping_timeout_ms: 5_000,
      restart_backoff_ms: 200,
      restart_backoff_max_ms: 30_000,
      circuit_failure_threshold: 5,
      circuit_open_ms: 30_000,
    });
  });

  it("refuses tool prefixes two agents would share (namespace or name)", () => {
    const found = problems(["agents:", "  a: { type: mcp, command: x }", "  b: { type: mcp, command: y, namespace: a }"].join("\n"));
    expect(found).toEqual([{ path: "agents.b.namespace", message: "tool prefix 'a' is already used by agent 'a'" }]);
  });

  it("refuses agent names that would make the provider-safe form ambiguous", () => {
    for (const name of ["a__b", "a_", "fs__"]) {
      expect(problems(`agents:\n  ${name}: { type: mock }`)[0]?.path, name).toBe(`agents.${name}`);
    }
    expect(problems("agents:\n  a_b-c: { type: mock }")).toEqual([]);
  });
});

describe("provider-safe tool names", () => {
  it("round-trip and never collide (property)", () => {
    const agent = fc.stringMatching(/^[a-z][a-z0-9_-]{0,20}$/).filter((name) => AGENT_NAME_PATTERN.test(name));
    const tool = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_\-:]{0,30}$/);
    fc.assert(
      fc.property(agent, tool, agent, tool, (a1, t1, a2, t2) => {
        expect(splitSafeToolName(safeToolName(a1, t1))).toEqual({ agent: a1, tool: t1 });
        if (a1 !== a2 || t1 !== t2) expect(safeToolName(a1, t1)).not.toBe(safeToolName(a2, t2));
      }),
    );
  });
});
