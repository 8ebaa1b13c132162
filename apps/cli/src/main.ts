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

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError("expected an integer");
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
    .option("--metrics-port <port>", "port of /metrics, /healthz, /readyz (overrides metrics.port; 0 = any free port)", port)
    .action(async (opts: { metricsPort?: number }) =>
      (await import("./commands/services.js")).workerCommand({ ...globals(), ...opts }, env, raw),
    );
  program
    .command("coordinator")
    .description("run a coordinator process")
    .option("--metrics-port <port>", "port of /metrics, /healthz, /readyz (overrides metrics.port; 0 = any free port)", port)
    .action(async (opts: { metricsPort?: number }) =>
      (await import("./commands/services.js")).coordinatorCommand({ ...globals(), ...opts }, env, raw),
    );

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

  // Client commands: HTTP to a running Switchyard.
  program.option("--url <url>", "Switchyard API URL for client commands (default: $SWITCHYARD_URL or http://127.0.0.1:8080)");
  const client = async () => {
    const mod = await import("./commands/client.js");
    return { mod, client: mod.makeClient(program.opts<{ url?: string }>(), env) };
  };
  const json = "--json";
  const jsonHelp = "machine-readable output (one JSON document per line)";

  program
    .command("agents")
    .description("agents")
    .command("ls")
    .description("list agents with their status, workers and tool counts")
    .option(json, jsonHelp)
    .action(async (opts: { json?: boolean }) => {
      const { mod, client: c } = await client();
      await mod.runClientCommand(() => mod.agentsLs(c, opts));
    });

  program
    .command("tools")
    .description("tools")
    .command("ls")
    .description("list tools (agent.tool)")
    .option("--agent <name>", "only this agent's tools")
    .option(json, jsonHelp)
    .action(async (opts: { json?: boolean; agent?: string }) => {
      const { mod, client: c } = await client();
      await mod.runClientCommand(() => mod.toolsLs(c, opts));
    });

  const task = program.command("task").description("submit and follow tasks");
  task
    .command("submit <agent> <tool>")
    .description("submit a task; prints its id (exit 0), or with --wait/--watch its outcome (exit 1 if it failed)")
    .option("--args <json>", "tool arguments as a JSON object", "{}")
    .option("--priority <n>", "priority (lower runs first)", integer)
    .option("--timeout-ms <ms>", "time budget per attempt", integer)
    .option("--max-attempts <n>", "attempts before the task fails", integer)
    .option("--wait", "wait for the outcome and print it")
    .option("--watch", "stream the task's events until it ends")
    .option(json, jsonHelp)
    .action(async (agent: string, tool: string, opts: Record<string, unknown>) => {
      const { mod, client: c } = await client();
      await mod.runClientCommand(() => mod.taskSubmit(c, agent, tool, opts));
    });
  task
    .command("get <id>")
    .description("show a task")
    .option(json, jsonHelp)
    .action(async (id: string, opts: { json?: boolean }) => {
      const { mod, client: c } = await client();
      await mod.runClientCommand(() => mod.taskGet(c, id, opts));
    });
  task
    .command("watch <id>")
    .description("follow a task's events until it ends (exit 0 completed, 1 failed/cancelled)")
    .option(json, jsonHelp)
    .action(async (id: string, opts: { json?: boolean }) => {
      const { mod, client: c } = await client();
      await mod.runClientCommand(() => mod.taskWatch(c, id, opts));
    });
  task
    .command("cancel <id>")
    .description("cancel a queued or running task")
    .option(json, jsonHelp)
    .action(async (id: string, opts: { json?: boolean }) => {
      const { mod, client: c } = await client();
      await mod.runClientCommand(() => mod.taskCancel(c, id, opts));
    });

  const workflow = program.command("workflow").description("workflow definitions and runs");
  workflow
    .command("apply <file>")
    .description("create or update a workflow from a YAML or JSON file")
    .option(json, jsonHelp)
    .action(async (file: string, opts: { json?: boolean }) => {
      const { mod, client: c } = await client();
      await mod.runClientCommand(() => mod.workflowApply(c, file, opts));
    });
  workflow
    .command("run <name>")
    .description("start a run; with --watch show its steps live (exit 0 completed, 1 failed/cancelled)")
    .option("--input <json>", "run input as a JSON object", "{}")
    .option("--watch", "live progress of the run's steps until it ends")
    .option(json, jsonHelp)
    .action(async (name: string, opts: { json?: boolean; input?: string; watch?: boolean }) => {
      const { mod, client: c } = await client();
      await mod.runClientCommand(() => mod.workflowRun(c, name, opts));
    });

  const runs = program.command("runs").description("workflow runs");
  runs
    .command("ls")
    .description("list workflow runs")
    .option("--workflow <name>", "only runs of this workflow")
    .option("--status <status>", "only runs in this status")
    .option("--limit <n>", "at most this many", integer)
    .option(json, jsonHelp)
    .action(async (opts: { json?: boolean; workflow?: string; status?: string; limit?: number }) => {
      const { mod, client: c } = await client();
      await mod.runClientCommand(() => mod.runsLs(c, opts));
    });
  runs
    .command("get <id>")
    .description("show a run and its steps")
    .option(json, jsonHelp)
    .action(async (id: string, opts: { json?: boolean }) => {
      const { mod, client: c } = await client();
      await mod.runClientCommand(() => mod.runGet(c, id, opts));
    });
  runs
    .command("watch <id>")
    .description("live progress of a run until it ends")
    .option(json, jsonHelp)
    .action(async (id: string, opts: { json?: boolean }) => {
      const { mod, client: c } = await client();
      await mod.runClientCommand(() => mod.runWatch(c, id, opts));
    });

  await program.parseAsync(process.argv);
}

main().catch(fail);
