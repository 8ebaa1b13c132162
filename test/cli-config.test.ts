import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";

const dir = mkdtempSync(path.join(tmpdir(), "sy-cli-config-"));
function configFile(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** A broken config exits 2 with one line naming the key path, and no stack trace. */
function expectConfigError(file: string, expected: RegExp, env: Record<string, string> = {}) {
  const { code, stdout, stderr } = runCli(["config", "check", "--config", file], { env });
  expect(code).toBe(2);
  expect(stdout).toBe("");
  const lines = stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(expected);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe("switchyard config check", () => {
  it("accepts a valid config and prints it with secrets redacted", () => {
    const file = configFile(
      "ok.yaml",
      "agents:\n  claude:\n    type: anthropic\n    model: claude-sonnet-4-5\n    api_key: ${ANTHROPIC_API_KEY}\n",
    );
    const { code, stdout } = runCli(["config", "check", "--print", "--config", file], {
      env: { ANTHROPIC_API_KEY: "sk-ant-do-not-print" },
    });
    expect(code).toBe(0);
    expect(stdout).toContain("ok (1 agent: claude)");
    expect(stdout).toMatch(/api_key: "?\[redacted\]"?/);
    expect(stdout).not.toContain("sk-ant-do-not-print");
  });

  it("missing key", () => {
    expectConfigError(
      configFile("missing.yaml", "agents:\n  claude:\n    type: anthropic\n    model: m\n"),
      /^switchyard: config error in .*missing\.yaml: agents\.claude\.api_key: required$/,
    );
  });

  it("wrong type", () => {
    expectConfigError(
      configFile("type.yaml", "agents:\n  m:\n    type: mock\n    concurrency: lots\n"),
      /^switchyard: config error in .*type\.yaml: agents\.m\.concurrency: expected number, got string$/,
    );
  });

  it("unknown agent type", () => {
    expectConfigError(
      configFile("agent-type.yaml", "agents:\n  m:\n    type: quantum\n"),
      /^switchyard: config error in .*agent-type\.yaml: agents\.m\.type: unknown agent type 'quantum'/,
    );
  });

  it("unset ${VAR} without a default", () => {
    expectConfigError(
      configFile("env.yaml", "agents:\n  g:\n    type: openai\n    model: m\n    api_key: ${SY_TEST_UNSET_KEY}\n"),
      /^switchyard: config error in .*env\.yaml: agents\.g\.api_key: environment variable SY_TEST_UNSET_KEY is not set/,
    );
  });

  it("unknown key", () => {
    expectConfigError(
      configFile("unknown.yaml", "server:\n  prot: 80\n"),
      /^switchyard: config error in .*unknown\.yaml: server\.prot: unknown key$/,
    );
  });

  it("a config file that does not exist", () => {
    expectConfigError(path.join(dir, "nope.yaml"), /^switchyard: config error in .*nope\.yaml: file not found$/);
  });

  it("start refuses a broken config the same way", () => {
    const file = configFile("start.yaml", "agents:\n  claude:\n    type: anthropic\n    model: m\n");
    const { code, stderr } = runCli(["start", "--config", file]);
    expect(code).toBe(2);
    expect(stderr.trim()).toMatch(/^switchyard: config error in .*start\.yaml: agents\.claude\.api_key: required$/);
  });
});
