import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { ClientError, EXIT, SwitchyardClient, sleep } from "../client/http.js";
import { printJson, RunProgress, type RunSnapshot, renderRun, table } from "../client/output.js";
import type { Env } from "../env.js";
import { UsageError } from "../runtime.js";

/**
 * The client commands: they talk HTTP to a running Switchyard (SWITCHYARD_URL, default
 * http://127.0.0.1:8080) with SWITCHYARD_API_KEY, or the key a laptop `switchyard start` saved in
 * ./.switchyard/admin.key. `--json` prints the API's JSON, one document per line.
 */
export interface ClientGlobals {
  url?: string;
}
interface JsonFlag {
  json?: boolean;
}

const TASK_FINAL = new Set(["completed", "failed", "cancelled"]);
const RUN_FINAL = new Set(["completed", "failed", "cancelled"]);
const POLL_MS = 250;

export function makeClient(globals: ClientGlobals, env: Env, cwd = process.cwd()): SwitchyardClient {
  const url = globals.url ?? env.SWITCHYARD_URL ?? "http://127.0.0.1:8080";
  let key = env.SWITCHYARD_API_KEY;
  if (!key) {
    const file = path.join(cwd, ".switchyard", "admin.key");
    if (existsSync(file)) key = readFileSync(file, "utf8").trim();
  }
  return new SwitchyardClient({ url, key });
}

function parseJsonOption(value: string | undefined, flag: string): Record<string, unknown> {
  if (value === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new UsageError(`${flag}: not valid JSON`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new UsageError(`${flag}: must be a JSON object`);
  return parsed as Record<string, unknown>;
}

// agents, tools

interface AgentRow {
  name: string;
  type: string;
  status: string;
  workers: number;
  tools: number;
  description: string;
}

export async function agentsLs(client: SwitchyardClient, opts: JsonFlag): Promise<number> {
  const body = await client.get<{ agents: AgentRow[] }>("/api/v1/agents");
  if (opts.json) printJson(body);
  else
    process.stdout.write(
      table(
        ["NAME", "TYPE", "STATUS", "WORKERS", "TOOLS"],
        body.agents.map((a) => [a.name, a.type, a.status, a.workers, a.tools]),
      ),
    );
  return EXIT.ok;
}

interface ToolRow {
  name: string;
  agent: string;
  tool: string;
  description?: string;
}

export async function toolsLs(client: SwitchyardClient, opts: JsonFlag & { agent?: string }): Promise<number> {
  const body = await client.get<{ tools: ToolRow[] }>("/api/v1/tools");
  const tools = opts.agent ? body.tools.filter((t) => t.agent === opts.agent) : body.tools;
  if (opts.json) printJson({ tools });
  else
    process.stdout.write(
      table(
        ["TOOL", "DESCRIPTION"],
        tools.map((t) => [t.name, (t.description ?? "").split("\n")[0]?.slice(0, 80) ?? ""]),
      ),
    );
  return EXIT.ok;
}

// tasks

interface TaskBody {
  task_id: string;
  status: string;
  agent_name?: string;
  tool_name?: string;
  result?: unknown;
  error?: { code: string; message: string };
  attempts?: number;
  max_attempts?: number;
}

export interface SubmitOptions extends JsonFlag {
  args?: string;
  priority?: number;
  timeoutMs?: number;
  maxAttempts?: number;
  wait?: boolean;
  watch?: boolean;
}

export async function taskSubmit(client: SwitchyardClient, agent: string, tool: string, opts: SubmitOptions): Promise<number> {
  const created = await client.post<TaskBody>("/api/v1/tasks", {
    agent_name: agent,
    tool_name: tool,
    arguments: parseJsonOption(opts.args, "--args"),
    ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
    ...(opts.timeoutMs !== undefined ? { timeout_ms: opts.timeoutMs } : {}),
    ...(opts.maxAttempts !== undefined ? { max_attempts: opts.maxAttempts } : {}),
  });
  if (opts.watch) {
    if (!opts.json) process.stdout.write(`${created.task_id} ${created.status}\n`);
    return taskWatch(client, created.task_id, opts);
  }
  if (opts.wait) {
    const done = await pollTask(client, created.task_id, () => {});
    printTask(done, opts);
    return taskExit(done);
  }
  if (opts.json) printJson(created);
  else process.stdout.write(`${created.task_id} ${created.status}\n`);
  return EXIT.ok;
}

export async function taskGet(client: SwitchyardClient, id: string, opts: JsonFlag): Promise<number> {
  printTask(await client.get<TaskBody>(`/api/v1/tasks/${encodeURIComponent(id)}`), opts);
  return EXIT.ok;
}

export async function taskCancel(client: SwitchyardClient, id: string, opts: JsonFlag): Promise<number> {
  const body = await client.post<TaskBody>(`/api/v1/tasks/${encodeURIComponent(id)}/cancel`);
  if (opts.json) printJson(body);
  else process.stdout.write(`${id} ${body?.status ?? "cancel requested"}\n`);
  return EXIT.ok;
}

/**
 * Follows a task to its end: its event stream (`GET /tasks/{id}/events`, SSE) when the server
 * has one, else polling. Exit code 0 when it completed, 1 when it failed or was cancelled.
 */
export async function taskWatch(client: SwitchyardClient, id: string, opts: JsonFlag): Promise<number> {
  const path = `/api/v1/tasks/${encodeURIComponent(id)}`;
  let task = await client.get<TaskBody>(path);
  if (!TASK_FINAL.has(task.status)) {
    const streamed = await whileNotFinal(
      async () => TASK_FINAL.has((await client.get<TaskBody>(path)).status),
      (signal) =>
        client.events(
          `${path}/events`,
          async (event) => {
            if (opts.json) printJson({ event: event.event, data: event.data });
            else process.stdout.write(`${event.event} ${typeof event.data === "string" ? event.data : JSON.stringify(event.data)}\n`);
            const status = (event.data as { status?: string } | undefined)?.status;
            if (TASK_FINAL.has(event.event) || (status && TASK_FINAL.has(status))) {
              task = await client.get<TaskBody>(path);
              return TASK_FINAL.has(task.status);
            }
            return false;
          },
          signal,
        ),
    );
    if (!streamed && !opts.json) process.stderr.write("switchyard: no event stream on this server; polling\n");
    task = await pollTask(client, id, (t) => {
      if (!streamed && !opts.json) process.stdout.write(`status ${t.status}\n`);
    });
  }
  printTask(task, opts);
  return taskExit(task);
}

/**
 * Runs `stream` until it ends, and ends it early when a slow check (every 2 s) sees the work
 * finished: a stream that stays open, or never names the final event, cannot hang a watch.
 */
async function whileNotFinal(isFinal: () => Promise<boolean>, stream: (signal: AbortSignal) => Promise<boolean>): Promise<boolean> {
  const controller = new AbortController();
  const timer = setInterval(() => {
    isFinal().then(
      (final) => {
        if (final) controller.abort();
      },
      () => {},
    );
  }, 2_000);
  try {
    return await stream(controller.signal);
  } finally {
    clearInterval(timer);
  }
}

async function pollTask(client: SwitchyardClient, id: string, onChange: (task: TaskBody) => void): Promise<TaskBody> {
  let last = "";
  for (;;) {
    const task = await client.get<TaskBody>(`/api/v1/tasks/${encodeURIComponent(id)}`);
    if (task.status !== last) {
      last = task.status;
      onChange(task);
    }
    if (TASK_FINAL.has(task.status)) return task;
    await sleep(POLL_MS);
  }
}

function printTask(task: TaskBody, opts: JsonFlag): void {
  if (opts.json) {
    printJson(task);
    return;
  }
  const lines = [
    `task     ${task.task_id}`,
    `tool     ${task.agent_name ?? "?"}.${task.tool_name ?? "?"}`,
    `status   ${task.status}${task.attempts !== undefined ? ` (attempt ${task.attempts}/${task.max_attempts ?? "?"})` : ""}`,
  ];
  if (task.error) lines.push(`error    ${task.error.code}: ${task.error.message}`);
  if (task.result !== undefined) lines.push(`result   ${JSON.stringify(task.result)}`);
  process.stdout.write(`${lines.join("\n")}\n`);
}

function taskExit(task: TaskBody): number {
  return task.status === "completed" ? EXIT.ok : EXIT.failed;
}

// workflows and runs

export async function workflowApply(client: SwitchyardClient, file: string, opts: JsonFlag): Promise<number> {
  let definition: unknown;
  try {
    definition = parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError(`${file}: ${(error as Error).message}`);
  }
  const body = await client.post<{ name?: string; version?: number }>("/api/v1/workflows", definition);
  if (opts.json) printJson(body);
  else
    process.stdout.write(
      `workflow ${body?.name ?? (definition as { name?: string })?.name ?? "?"}${body?.version !== undefined ? ` v${body.version}` : ""} applied\n`,
    );
  return EXIT.ok;
}

export async function workflowRun(
  client: SwitchyardClient,
  name: string,
  opts: JsonFlag & { input?: string; watch?: boolean },
): Promise<number> {
  const created = await client.post<{ run_id: string; status?: string }>(`/api/v1/workflows/${encodeURIComponent(name)}/runs`, {
    input: parseJsonOption(opts.input, "--input"),
  });
  if (!opts.watch) {
    if (opts.json) printJson(created);
    else process.stdout.write(`${created.run_id} ${created.status ?? "pending"}\n`);
    return EXIT.ok;
  }
  return runWatch(client, created.run_id, opts);
}

/**
 * Live progress of a run: redrawn on a terminal, a line per state change otherwise, one JSON
 * snapshot per change with --json. Driven by the run's SSE stream (`GET /runs/{id}/events`),
 * re-reading the run on each event; polls when the server has no stream.
 */
export async function runWatch(client: SwitchyardClient, id: string, opts: JsonFlag): Promise<number> {
  const path = `/api/v1/runs/${encodeURIComponent(id)}`;
  const progress = new RunProgress(process.stdout);
  let lastJson = "";
  const show = (run: RunSnapshot) => {
    if (!opts.json) return progress.update(run);
    const snapshot = JSON.stringify(run);
    if (snapshot !== lastJson) process.stdout.write(`${snapshot}\n`);
    lastJson = snapshot;
  };
  let run = await client.get<RunSnapshot>(path);
  show(run);
  if (!RUN_FINAL.has(run.status)) {
    await whileNotFinal(
      async () => RUN_FINAL.has((await client.get<RunSnapshot>(path)).status),
      (signal) =>
        client.events(
          `${path}/events`,
          async () => {
            run = await client.get<RunSnapshot>(path);
            show(run);
            return RUN_FINAL.has(run.status);
          },
          signal,
        ),
    );
    while (!RUN_FINAL.has(run.status)) {
      await sleep(POLL_MS);
      run = await client.get<RunSnapshot>(path);
      show(run);
    }
  }
  return run.status === "completed" ? EXIT.ok : EXIT.failed;
}

export async function runGet(client: SwitchyardClient, id: string, opts: JsonFlag): Promise<number> {
  const run = await client.get<RunSnapshot>(`/api/v1/runs/${encodeURIComponent(id)}`);
  if (opts.json) printJson(run);
  else process.stdout.write(`${renderRun(run).join("\n")}\n`);
  return EXIT.ok;
}

export async function runsLs(
  client: SwitchyardClient,
  opts: JsonFlag & { workflow?: string; status?: string; limit?: number },
): Promise<number> {
  const query = new URLSearchParams();
  if (opts.workflow) query.set("workflow", opts.workflow);
  if (opts.status) query.set("status", opts.status);
  if (opts.limit) query.set("limit", String(opts.limit));
  const body = await client.get<{ runs: Array<RunSnapshot & { created_at?: string }> }>(`/api/v1/runs${query.size > 0 ? `?${query}` : ""}`);
  if (opts.json) printJson(body);
  else
    process.stdout.write(
      table(
        ["RUN", "WORKFLOW", "STATUS", "CREATED"],
        body.runs.map((r) => [r.run_id, r.workflow, r.status, r.created_at ?? ""]),
      ),
    );
  return EXIT.ok;
}

/** Runs a client command and turns its outcome into the process exit code. */
export async function runClientCommand(work: () => Promise<number>): Promise<never> {
  try {
    process.exitCode = await work();
  } catch (error) {
    if (error instanceof ClientError) {
      process.stderr.write(`switchyard: ${error.message}\n`);
      process.exit(error.exitCode);
    }
    throw error;
  }
  // Let stdout drain before exiting (a pipe may still hold output).
  await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
  process.exit(process.exitCode ?? 0);
}
