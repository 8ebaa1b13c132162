import { createHash } from "node:crypto";
import type { Redis } from "@switchyard/redis";

/**
 * A Lua script run atomically by Redis. Named like BullMQ's `<name>-<numKeys>`; each script's
 * header documents every KEYS/ARGV entry. Sent by SHA, with the body as a fallback after a
 * restart (NOSCRIPT).
 */
export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly numKeys: number,
    readonly body: string,
  ) {
    this.sha = createHash("sha1").update(body).digest("hex");
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    if (keys.length !== this.numKeys) throw new Error(`${this.name}-${this.numKeys}: got ${keys.length} keys`);
    try {
      return await redis.evalsha(this.sha, this.numKeys, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes("NOSCRIPT")) throw error;
      return await redis.eval(this.body, this.numKeys, ...keys, ...args);
    }
  }
}

export const acquireLock = new LuaScript(
  "acquire-lock",
  2,
  `
--[[
  acquire-lock-2: take a file lock, or report who holds it.
    KEYS[1] lock hash {owner, token, path}
    KEYS[2] fencing counter of the tenant (never expires, so tokens only grow)
    ARGV[1] owner (agent id)
    ARGV[2] ttl in ms
    ARGV[3] normalized path
  Returns {1, owner, token, ttl} when the caller holds the lock (a re-acquire by the owner
  extends it and keeps its token), {0, owner, token, pttl} when another agent holds it.
]]
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner and owner ~= ARGV[1] then
  return {0, owner, redis.call('HGET', KEYS[1], 'token'), redis.call('PTTL', KEYS[1])}
end
if owner then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, owner, redis.call('HGET', KEYS[1], 'token'), tonumber(ARGV[2])}
end
local token = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', token, 'path', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, ARGV[1], tostring(token), tonumber(ARGV[2])}
`,
);

export const releaseLock = new LuaScript(
  "release-lock",
  1,
  `
--[[
  release-lock-1: release a lock, only by its owner.
    KEYS[1] lock hash
    ARGV[1] owner (agent id)
    ARGV[2] fencing token the owner holds, or '' to skip the check
  Returns 1 released, 0 not held by anyone, -1 held by another agent, -2 token mismatch.
]]
local f = redis.call('HMGET', KEYS[1], 'owner', 'token')
if not f[1] then return 0 end
if f[1] ~= ARGV[1] then return -1 end
if ARGV[2] ~= '' and f[2] ~= ARGV[2] then return -2 end
redis.call('DEL', KEYS[1])
return 1
`,
);

export const renewLock = new LuaScript(
  "renew-lock",
  1,
  `
--[[
  renew-lock-1: extend a lock's TTL, only by its owner.
    KEYS[1] lock hash
    ARGV[1] owner (agent id)
    ARGV[2] fencing token the owner holds, or '' to skip the check
    ARGV[3] new ttl in ms
  Returns 1 renewed, 0 not held by anyone, -1 held by another agent, -2 token mismatch.
]]
local f = redis.call('HMGET', KEYS[1], 'owner', 'token')
if not f[1] then return 0 end
if f[1] ~= ARGV[1] then return -1 end
if ARGV[2] ~= '' and f[2] ~= ARGV[2] then return -2 end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`,
);

export const claimTask = new LuaScript(
  "claim-task",
  2,
  `
--[[
  claim-task-2: give the caller the oldest pending task it may take.
    KEYS[1] pending sorted set (task ids, FIFO scores)
    KEYS[2] set of task ids the caller holds
    ARGV[1] agent id
    ARGV[2] JSON array of the agent's capabilities
    ARGV[3] most tasks the agent may hold at once
    ARGV[4] now (ms)
    ARGV[5] key prefix of task hashes (same hash tag as KEYS)
    ARGV[6] how many pending tasks to look at
  A task assigned to an agent goes only to it; an unassigned one to any agent having all of its
  required capabilities. Returns {1, id} claimed, {0} nothing to claim, {-1, held} at the limit.
]]
local held = redis.call('SCARD', KEYS[2])
if held >= tonumber(ARGV[3]) then return {-1, held} end
local caps = {}
for _, c in ipairs(cjson.decode(ARGV[2])) do caps[c] = true end
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[6]) - 1)
for _, id in ipairs(ids) do
  local key = ARGV[5] .. id
  local f = redis.call('HMGET', key, 'status', 'assignee', 'capabilities')
  if f[1] ~= 'pending' then
    redis.call('ZREM', KEYS[1], id)
  else
    local ok = true
    local assignee = f[2] or ''
    if assignee ~= '' then
      ok = assignee == ARGV[1]
    else
      for _, need in ipairs(cjson.decode(f[3] or '[]')) do
        if not caps[need] then ok = false break end
      end
    end
    if ok then
      redis.call('ZREM', KEYS[1], id)
      redis.call('HSET', key, 'status', 'claimed', 'claimed_by', ARGV[1], 'claimed_at', ARGV[4], 'updated_at', ARGV[4])
      redis.call('HINCRBY', key, 'attempts', 1)
      redis.call('SADD', KEYS[2], id)
      return {1, id}
    end
  end
end
return {0}
`,
);

export const finishTask = new LuaScript(
  "finish-task",
  4,
  `
--[[
  finish-task-4: end a claim: complete, fail, or put the task back in the pending queue.
    KEYS[1] task hash
    KEYS[2] set of task ids the claiming agent holds
    KEYS[3] pending sorted set
    KEYS[4] pending FIFO counter
    ARGV[1] task id
    ARGV[2] agent id that must hold the claim
    ARGV[3] new status: completed | failed | pending
    ARGV[4] now (ms)
    ARGV[5] result JSON ('' for none)
    ARGV[6] error JSON ('' for none)
    ARGV[7] new assignee when returning to pending ('-' keeps it, '' clears it)
  Returns 1 done, -1 not claimed, -2 claimed by another agent, -3 no such task.
]]
local f = redis.call('HMGET', KEYS[1], 'status', 'claimed_by')
if not f[1] then return -3 end
if f[1] ~= 'claimed' then return -1 end
if f[2] ~= ARGV[2] then return -2 end
redis.call('SREM', KEYS[2], ARGV[1])
if ARGV[3] == 'pending' then
  redis.call('HSET', KEYS[1], 'status', 'pending', 'claimed_by', '', 'updated_at', ARGV[4])
  if ARGV[7] ~= '-' then redis.call('HSET', KEYS[1], 'assignee', ARGV[7]) end
  redis.call('ZADD', KEYS[3], redis.call('INCR', KEYS[4]), ARGV[1])
else
  redis.call('HSET', KEYS[1], 'status', ARGV[3], 'updated_at', ARGV[4], 'finished_at', ARGV[4])
  if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'result', ARGV[5]) end
  if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[6]) end
end
return 1
`,
);

export const reassignPending = new LuaScript(
  "reassign-pending",
  1,
  `
--[[
  reassign-pending-1: change the assignee of a task that is still pending.
    KEYS[1] task hash
    ARGV[1] expected current assignee
    ARGV[2] new assignee ('' = any capable agent)
    ARGV[3] now (ms)
  Returns 1 changed, 0 the task moved on (claimed, finished, or assigned elsewhere).
]]
local f = redis.call('HMGET', KEYS[1], 'status', 'assignee')
if f[1] ~= 'pending' or f[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'assignee', ARGV[2], 'updated_at', ARGV[3])
return 1
`,
);

export const slidingWindow = new LuaScript(
  "sliding-window",
  1,
  `
--[[
  sliding-window-1: count an event in a sliding window unless the window is full.
    KEYS[1] sorted set of event times
    ARGV[1] now (ms)
    ARGV[2] window (ms)
    ARGV[3] most events allowed in the window
    ARGV[4] unique member for this event
  Returns {1, count} counted, {0, count, oldest} refused (oldest: time of the oldest event).
]]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
local n = redis.call('ZCARD', KEYS[1])
if n >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, n, oldest[2]}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, n + 1}
`,
);

export const markOffline = new LuaScript(
  "mark-offline",
  3,
  `
--[[
  mark-offline-3: record that a registered agent's heartbeat lapsed, once.
    KEYS[1] agents hash of the tenant
    KEYS[2] the agent's heartbeat key (TTL)
    KEYS[3] offline set of the tenant
    ARGV[1] agent id
  Returns 1 when this call made the transition, 0 otherwise (alive, unknown, or already offline).
]]
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
return redis.call('SADD', KEYS[3], ARGV[1])
`,
);

export const expireTask = new LuaScript(
  "expire-task",
  2,
  `
--[[
  expire-task-2: fail a pending or claimed task whose deadline passed.
    KEYS[1] task hash
    KEYS[2] pending sorted set
    ARGV[1] task id
    ARGV[2] now (ms)
    ARGV[3] error JSON
    ARGV[4] key prefix of the per-agent claimed sets (same hash tag)
  Returns 1 expired, 0 already finished or unknown.
]]
local f = redis.call('HMGET', KEYS[1], 'status', 'claimed_by')
if f[1] ~= 'pending' and f[1] ~= 'claimed' then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
if f[1] == 'claimed' and f[2] and f[2] ~= '' then redis.call('SREM', ARGV[4] .. f[2], ARGV[1]) end
redis.call('HSET', KEYS[1], 'status', 'failed', 'error', ARGV[3], 'updated_at', ARGV[2], 'finished_at', ARGV[2])
return 1
`,
);
