import type { ChainableCommander, Redis } from "ioredis";
import { RunState, type StepTransition, StoredWorkflow, type WorkflowDefinition } from "./schema.js";

/**
 * Redis storage of workflow definitions (versioned), runs and their event streams.
 *
 * Keys (all under the configured prefix; `{run}` is a hash tag so a run's keys share a slot):
 *   wf:t:<tenant>:def:<name>      hash  version → JSON StoredWorkflow, `latest` → n
 *   wf:t:<tenant>:defs            zset  name (score = last change ms)
 *   wf:run:{<run>}                hash  state → JSON RunState, rev → n
 *   wf:run:{<run>}:events         stream of StepTransition (SSE source)
 *   wf:t:<tenant>:runs            zset  run id (score = created ms), trimmed past retention
 *   wf:t:<tenant>:idem:<key>      string run id (idempotency key), expires with the run
 */
export class WorkflowKeys {
  constructor(readonly prefix: string) {}
  def(tenant: string, name: string): string {
    return `${this.prefix}:wf:t:${tenant}:def:${name}`;
  }
  defs(tenant: string): string {
    return `${this.prefix}:wf:t:${tenant}:defs`;
  }
  run(runId: string): string {
    return `${this.prefix}:wf:run:{${runId}}`;
  }
  events(runId: string): string {
    return `${this.prefix}:wf:run:{${runId}}:events`;
  }
  runs(tenant: string): string {
    return `${this.prefix}:wf:t:${tenant}:runs`;
  }
  idempotency(tenant: string, key: string): string {
    return `${this.prefix}:wf:t:${tenant}:idem:${key}`;
  }
}

/**
 * commit-2: compare-and-set of a run's state, plus its transitions appended to the run's stream,
 * in one atomic step. Works on a shared connection (no WATCH).
 *   KEYS[1] run hash, KEYS[2] events stream
 *   ARGV[1] expected rev, ARGV[2] new state JSON, ARGV[3] ttl seconds (0 = keep), ARGV[4] max
 *   stream length, ARGV[5..] transition JSONs
 * Returns the new rev, or -1 when the rev moved (someone else committed first).
 */
const COMMIT = `
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
if rev ~= tonumber(ARGV[1]) then return -1 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'rev', rev + 1)
for i = 5, #ARGV do
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'e', ARGV[i])
end
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
end
return rev + 1
`;

/**
 * create-5: stores a new run unless its idempotency key already names one.
 *   KEYS[1] run hash, KEYS[2] tenant run index, KEYS[3] idempotency key (or a dummy), KEYS[4] events
 *   ARGV[1] state JSON, ARGV[2] run id, ARGV[3] created ms, ARGV[4] retention seconds,
 *   ARGV[5] '1' when an idempotency key is used, ARGV[6] trim cutoff ms
 * Returns the run id that holds the key (the new one, or the existing one).
 */
const CREATE = `
if ARGV[5] == '1' then
  local existing = redis.call('GET', KEYS[3])
  if existing then return existing end
  redis.call('SET', KEYS[3], ARGV[2], 'EX', ARGV[4])
end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'rev', 0)
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[6])
return ARGV[2]
`;

/**
 * define-2: stores a definition as a new version unless it equals the latest.
 *   KEYS[1] definition hash, KEYS[2] tenant definitions index
 *   ARGV[1] definition JSON (without version), ARGV[2] now ms, ARGV[3] name, ARGV[4] tenant
 * Returns {version, created(1|0)}.
 */
const DEFINE = `
local latest = tonumber(redis.call('HGET', KEYS[1], 'latest') or '0')
if latest > 0 and redis.call('HGET', KEYS[1], 'body:' .. latest) == ARGV[1] then return {latest, 0} end
local v = latest + 1
redis.call('HSET', KEYS[1], 'latest', v, 'body:' .. v, ARGV[1], 'at:' .. v, ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return {v, 1}
`;

export interface StoredRun {
  state: RunState;
  rev: number;
}

/** The scripts as ioredis commands: EVALSHA after their first use on a connection, not the text each time. */
const COMMIT_COMMAND = "switchyardRunCommit";
const CREATE_COMMAND = "switchyardRunCreate";
type ScriptCommand = (...args: string[]) => Promise<unknown>;

/** Defines the run scripts on a connection (once per connection), for `create`, `commit` and `queueCommit`. */
export function defineRunScripts(redis: Redis): void {
  if (typeof (redis as unknown as Record<string, unknown>)[COMMIT_COMMAND] === "function") return;
  redis.defineCommand(COMMIT_COMMAND, { numberOfKeys: 2, lua: COMMIT });
  redis.defineCommand(CREATE_COMMAND, { numberOfKeys: 4, lua: CREATE });
}

function scriptOf(target: Redis | ChainableCommander, name: string): ScriptCommand {
  const command = (target as unknown as Record<string, ScriptCommand>)[name];
  if (typeof command !== "function") throw new Error(`${name}: call defineRunScripts on the connection first`);
  return command.bind(target);
}

export class RunStore {
  readonly keys: WorkflowKeys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly options: { retentionSeconds: number; maxEvents?: number },
  ) {
    this.keys = new WorkflowKeys(prefix);
    defineRunScripts(redis);
  }

  // ---- definitions

  async define(tenant: string, definition: WorkflowDefinition, now = Date.now()): Promise<{ version: number; created: boolean }> {
    const [version, created] = (await this.redis.eval(
      DEFINE,
      2,
      this.keys.def(tenant, definition.name),
      this.keys.defs(tenant),
      JSON.stringify(definition),
      String(now),
      definition.name,
      tenant,
    )) as [number, number];
    return { version, created: created === 1 };
  }

  async workflow(tenant: string, name: string, version?: number): Promise<StoredWorkflow | undefined> {
    const key = this.keys.def(tenant, name);
    const v = version ?? Number((await this.redis.hget(key, "latest")) ?? 0);
    if (!v) return undefined;
    const [body, at] = await this.redis.hmget(key, `body:${v}`, `at:${v}`);
    if (!body) return undefined;
    return StoredWorkflow.parse({ name, version: v, tenant, created_at: Number(at ?? 0), definition: JSON.parse(body) });
  }

  async versions(tenant: string, name: string): Promise<number> {
    return Number((await this.redis.hget(this.keys.def(tenant, name), "latest")) ?? 0);
  }

  async workflows(tenant: string): Promise<string[]> {
    return this.redis.zrange(this.keys.defs(tenant), "0", "-1");
  }

  // ---- runs

  /** Stores a new run; with an idempotency key, a second create returns the first run's id. */
  async create(state: RunState, idempotencyKey?: string): Promise<{ run_id: string; created: boolean }> {
    const retention = this.options.retentionSeconds;
    const id = (await scriptOf(this.redis, CREATE_COMMAND)(
      this.keys.run(state.run_id),
      this.keys.runs(state.tenant),
      idempotencyKey ? this.keys.idempotency(state.tenant, idempotencyKey) : this.keys.run(state.run_id),
      this.keys.events(state.run_id),
      JSON.stringify(state),
      state.run_id,
      String(state.created_at),
      String(retention),
      idempotencyKey ? "1" : "0",
      String(state.created_at - retention * 1_000),
    )) as string;
    return { run_id: id, created: id === state.run_id };
  }

  async load(runId: string): Promise<StoredRun | undefined> {
    return this.parseLoad(await this.redis.hmget(this.keys.run(runId), "state", "rev"));
  }

  /** Adds the read of a run to a pipeline; `parseLoad` turns its reply into the run. */
  queueLoad(pipeline: ChainableCommander, runId: string): void {
    pipeline.hmget(this.keys.run(runId), "state", "rev");
  }

  /**
   * `validate: false` skips the schema check for a reader that only feeds the document back to
   * the state machine (the coordinator): every writer serialises a `RunState` (create, commit),
   * and on a 1,000-item run the full parse costs more than the transition itself. The shape is
   * still checked (version, steps).
   */
  parseLoad(reply: unknown, options: { validate?: boolean } = {}): StoredRun | undefined {
    const [state, rev] = reply as [string | null, string | null];
    if (!state) return undefined;
    const json = JSON.parse(state) as RunState;
    if (options.validate === false) {
      if (json?.v !== 1 || typeof json.steps !== "object" || json.steps === null) throw new Error("stored run is not a run document (v1)");
      return { state: json, rev: Number(rev ?? 0) };
    }
    return { state: RunState.parse(json), rev: Number(rev ?? 0) };
  }

  /** Compare-and-set. False when another writer committed since `rev` was read. */
  async commit(runId: string, rev: number, state: RunState, transitions: StepTransition[]): Promise<boolean> {
    const result = (await scriptOf(this.redis, COMMIT_COMMAND)(...this.commitArgs(runId, rev, state, transitions))) as number;
    return result >= 0;
  }

  /**
   * Adds the same compare-and-set to a pipeline or MULTI of a connection `defineRunScripts` was
   * called on; its reply is the new rev, or -1 when the rev moved.
   */
  queueCommit(pipeline: ChainableCommander, runId: string, rev: number, state: RunState, transitions: StepTransition[]): void {
    void scriptOf(pipeline, COMMIT_COMMAND)(...this.commitArgs(runId, rev, state, transitions));
  }

  private commitArgs(runId: string, rev: number, state: RunState, transitions: StepTransition[]): string[] {
    const finished = state.status === "completed" || state.status === "failed" || state.status === "cancelled";
    return [
      this.keys.run(runId),
      this.keys.events(runId),
      String(rev),
      JSON.stringify(state),
      String(finished ? this.options.retentionSeconds : 0),
      String(this.options.maxEvents ?? 10_000),
      ...transitions.map((t) => JSON.stringify(t)),
    ];
  }

  /** A participant's heartbeat on a waiting step (read by the coordinator's heartbeat timer). */
  async heartbeat(runId: string, stepId: string, now = Date.now()): Promise<void> {
    await this.redis.set(`${this.keys.run(runId)}:hb:${stepId}`, String(now), "EX", this.options.retentionSeconds);
  }

  async lastHeartbeat(runId: string, stepId: string): Promise<number | undefined> {
    const value = await this.redis.get(`${this.keys.run(runId)}:hb:${stepId}`);
    return value ? Number(value) : undefined;
  }

  /** Newest first. */
  async list(tenant: string, limit: number, before?: number): Promise<RunState[]> {
    const ids = await this.redis.zrevrangebyscore(
      this.keys.runs(tenant),
      before !== undefined ? `(${before}` : "+inf",
      "-inf",
      "LIMIT",
      0,
      limit,
    );
    const runs = await Promise.all(ids.map((id) => this.load(id)));
    return runs.flatMap((r) => (r && r.state.tenant === tenant ? [r.state] : []));
  }

  /** Transitions after stream id `after` ('0' for all), blocking up to `blockMs` when there are none. */
  async events(
    runId: string,
    after: string,
    blockMs: number,
    connection: Redis = this.redis,
  ): Promise<Array<{ id: string; transition: StepTransition }>> {
    const args = blockMs > 0 ? (["BLOCK", blockMs] as const) : ([] as const);
    const reply = (await (connection.xread as (...a: unknown[]) => Promise<unknown>)(
      "COUNT",
      500,
      ...args,
      "STREAMS",
      this.keys.events(runId),
      after,
    )) as Array<[string, Array<[string, string[]]>]> | null;
    if (!reply) return [];
    const out: Array<{ id: string; transition: StepTransition }> = [];
    for (const [, entries] of reply)
      for (const [id, fields] of entries) out.push({ id, transition: JSON.parse(fields[1] ?? "{}") as StepTransition });
    return out;
  }
}
