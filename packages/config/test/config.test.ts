import { readFileSync } from "node:fs";
import path from "node:path";
import { ConfigError, collectSecrets, loadConfigFile, parseConfigText, REDACTED, redactSecrets } from "@switchyard/config";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const parse = (text: string, env: Record<string, string> = {}) => parseConfigText(text, { env, file: "test.yaml" });
const errorOf = (text: string, env: Record<string, string> = {}): ConfigError => {
  try {
    parse(text, env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
};

describe("config loading", () => {
  it("fills defaults for an empty file", () => {
    const config = parse("");
    expect(config.server).toEqual({ host: "127.0.0.1", port: 8080, body_limit_bytes: 1_048_576, json_max_depth: 64 });
    expect(config.redis.prefix).toBe("sy");
    expect(config.agents).toEqual({});
  });

  it("substitutes ${VAR} and ${VAR:-default}, and $${ escapes", () => {
    const config = parse(
      `server:\n  port: \${PORT:-9090}\n  host: \${HOST}\nagents:\n  m:\n    type: mock\n    description: "cost $\${X}"\n`,
      { HOST: "0.0.0.0" },
    );
    expect(config.server.port).toBe(9090);
    expect(config.server.host).toBe("0.0.0.0");
    expect(config.agents.m?.description).toBe("cost ${X}");
  });

  it("parses every agent type of the example config", () => {
    const env = {
      OPENAI_API_KEY: "sk-openai-secret",
      ANTHROPIC_API_KEY: "sk-ant-secret",
      GEMINI_API_KEY: "gemini-secret",
      XAI_API_KEY: "xai-secret",
      GITHUB_MCP_TOKEN: "ghp-secret",
      WEATHER_API_TOKEN: "weather-secret",
      SWITCHYARD_ADMIN_KEY: "admin-key-0123456789abcdef",
    };
    const { config } = loadConfigFile(path.join(ROOT, "examples/switchyard.yaml"), { env });
    const types = new Set(Object.values(config.agents).map((agent) => (agent.type === "mcp" ? `mcp/${agent.transport}` : agent.type)));
    expect([...types].sort()).toEqual(["anthropic", "mcp/http", "mcp/sse", "mcp/stdio", "mock", "openai", "rest"]);
  });

  it("infers the MCP transport from command or url", () => {
    const config = parse("agents:\n  a:\n    type: mcp\n    command: node\n  b:\n    type: mcp\n    url: http://localhost:1/mcp\n");
    expect(config.agents.a).toMatchObject({ transport: "stdio", args: [] });
    expect(config.agents.b).toMatchObject({ transport: "http" });
  });

  it("reads JSON files", () => {
    const config = parseConfigText(JSON.stringify({ agents: { m: { type: "mock" } } }), { env: {}, file: "c.json", json: true });
    expect(config.agents.m?.type).toBe("mock");
  });
});

describe("config errors name the file, the key path and what was expected", () => {
  it("missing required key", () => {
    const error = errorOf("agents:\n  claude:\n    type: anthropic\n    model: claude-sonnet-4-5\n");
    expect(error.message).toBe("config error in test.yaml: agents.claude.api_key: required");
  });

  it("wrong type", () => {
    const error = errorOf("server:\n  port: eighty\n");
    expect(error.message).toMatch(/^config error in test\.yaml: server\.port: expected number, got string$/);
  });

  it("unknown agent type", () => {
    const error = errorOf("agents:\n  x:\n    type: llama\n");
    expect(error.message).toBe(
      "config error in test.yaml: agents.x.type: unknown agent type 'llama' (expected one of openai, anthropic, mcp, rest, mock)",
    );
  });

  it("unset ${VAR} without a default", () => {
    const error = errorOf("agents:\n  claude:\n    type: anthropic\n    model: m\n    api_key: ${ANTHROPIC_API_KEY}\n");
    expect(error.message).toMatch(
      /^config error in test\.yaml: agents\.claude\.api_key: environment variable ANTHROPIC_API_KEY is not set/,
    );
  });

  it("unknown keys", () => {
    expect(errorOf("agents:\n  m:\n    type: mock\n    colour: blue\n").message).toBe(
      "config error in test.yaml: agents.m.colour: unknown key",
    );
    expect(errorOf("sever:\n  port: 1\n").message).toBe("config error in test.yaml: sever: unknown key");
  });

  it("invalid agent names and fallback references", () => {
    expect(errorOf("agents:\n  Bad.Name:\n    type: mock\n").message).toMatch(/agents\.Bad\.Name/);
    expect(errorOf("agents:\n  a:\n    type: mock\n    fallback: [b]\n").message).toBe(
      "config error in test.yaml: agents.a.fallback[0]: unknown agent 'b'",
    );
  });

  it("YAML syntax errors give the line", () => {
    expect(errorOf("agents:\n  a: [\n").message).toMatch(/invalid YAML at line \d+/);
  });

  it("a missing file", () => {
    expect(() => loadConfigFile("/nonexistent/switchyard.yaml", { env: {} })).toThrow(
      "config error in /nonexistent/switchyard.yaml: file not found",
    );
  });

  it("never puts a secret value in the message", () => {
    const error = errorOf("agents:\n  c:\n    type: openai\n    model: 5\n    api_key: sk-very-secret-value\n    base_url: not-a-url\n");
    expect(error.message).not.toContain("sk-very-secret-value");
  });
});

describe("redaction", () => {
  it("hides keys, tokens, header values and child env values", () => {
    const config = parse(
      [
        "auth:",
        "  keys:",
        "    - key: admin-key-0123456789abcdef",
        "      role: admin",
        "agents:",
        "  o:",
        "    type: openai",
        "    model: gpt",
        "    api_key: sk-secret-1",
        "    headers: { X-Custom: hdr-secret }",
        "  s:",
        "    type: mcp",
        "    command: node",
        "    env: { TOKEN: env-secret }",
        "  r:",
        "    type: rest",
        "    base_url: http://localhost:1",
        "    auth_token: rest-secret",
        "    tools: {}",
      ].join("\n"),
    );
    const dumped = JSON.stringify(redactSecrets(config));
    for (const secret of ["admin-key-0123456789abcdef", "sk-secret-1", "hdr-secret", "env-secret", "rest-secret"]) {
      expect(dumped).not.toContain(secret);
    }
    expect(dumped).toContain(REDACTED);
    expect(dumped).toContain('"model":"gpt"');
    expect([...collectSecrets(config)].sort()).toEqual([
      "admin-key-0123456789abcdef",
      "env-secret",
      "hdr-secret",
      "rest-secret",
      "sk-secret-1",
    ]);
  });

  it("the docker-compose config is valid as shipped", () => {
    const { config } = loadConfigFile(path.join(ROOT, "deploy/switchyard.compose.yaml"), {
      env: { SWITCHYARD_ADMIN_KEY: "compose-admin-key-0123456789" },
    });
    expect(Object.keys(config.agents)).toEqual(["mock", "everything", "fs"]);
  });

  it("the quickstart config is valid as shipped", () => {
    const text = readFileSync(path.join(ROOT, "switchyard.yaml"), "utf8");
    expect(Object.keys(parse(text).agents)).toEqual(["mock", "everything", "fs"]);
  });
});
