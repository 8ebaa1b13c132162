#!/usr/bin/env node
import { ConfigError } from "@switchyard/config";
import { RedisServerNotFoundError } from "@switchyard/redis";
import { Command, InvalidArgumentError } from "commander";
import { EnvError, readEnv } from "./env.js";
import { UsageError } from "./runtime.js";

// Commands are imported when run: `config check` should not pay for loading BullMQ and Express.

/** Expected failures print one line and exit with a code scripts can branch on. */
function fail(error: unknown): never {
  if (error instanceof ConfigError || error instanceof UsageError || error instanceof EnvError) {
    process.stderr.write(`switchyard: ${error.message}\n`);
    process.exit(2);
  }
  if (error instanceof RedisServerNotFoundError) {
    process.stderr.write(`switchyard: ${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`switchyard: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError("expected a port number (0-65535)");
  return n;
}

async function main(): Promise<void> {
  const { env, raw } = readEnv();
  const program = new Command()
    .name("switchyard")
    .description("MCP agent orchestration on BullMQ and Redis")
    .option("-c, --config <file>", "config file (default: $SWITCHYARD_CONFIG or ./switchyard.yaml)")
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(text) })
    .exitOverride((error) => {
      process.exit(error.exitCode === 0 ? 0 : 2);
    });
  const globals = () => program.opts<{ config?: string }>();

  program
    .command("start")
    .description("run api, worker and coordinator in one process (embeds redis-server when REDIS_URL is unset)")
    .option("-p, --port <port>", "API port (overrides server.port)", port)
    .option("--host <host>", "API host (overrides server.host)")
    .action(async (opts: { port?: number; host?: string }) =>
      (await import("./commands/start.js")).startCommand({ ...globals(), ...opts }, env, raw),
    );
  program
    .command("api")
    .description("run an api replica")
    .option("-p, --port <port>", "API port (overrides server.port)", port)
    .option("--host <host>", "API host (overrides server.host)")
    .action(async (opts: { port?: number; host?: string }) =>
      (await import("./commands/services.js")).apiCommand({ ...globals(), ...opts }, env, raw),
    );
  program
    .command("worker")
    .description("run a worker process")
    .action(async () => (await import("./commands/services.js")).workerCommand(globals(), env, raw));
  program
    .command("coordinator")
    .description("run a coordinator process")
    .action(async () => (await import("./commands/services.js")).coordinatorCommand(globals(), env, raw));

  program
    .command("mcp")
    .description("serve Switchyard's tools over stdio for MCP desktop clients (relays to SWITCHYARD_URL with SWITCHYARD_API_KEY)")
    .option("--url <url>", "Switchyard api base URL (default: $SWITCHYARD_URL)")
    .action(async (opts: { url?: string }) => (await import("./commands/mcp.js")).mcpCommand(opts, env));

  const config = program.command("config").description("configuration tools");
  config
    .command("check")
    .description("validate the config file")
    .option("--print", "print the resolved config (secrets redacted)")
    .option("--json", "machine-readable output")
    .action(async (opts: { print?: boolean; json?: boolean }) =>
      (await import("./commands/config.js")).configCheckCommand({ ...globals(), ...opts }, env, raw),
    );

  await program.parseAsync(process.argv);
}

main().catch(fail);
