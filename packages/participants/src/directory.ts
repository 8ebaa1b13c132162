import { createHash, randomBytes } from "node:crypto";
import { NonRetryableError, type ToolActor } from "@switchyard/core";
import type { z } from "zod";
import { iso, type ParticipantContext } from "./context.js";
import { type FindAgentsInput, type HeartbeatInput, type ParticipantAgent, type RegisterAgentInput, StoredAgent } from "./schemas.js";
import { markOffline } from "./scripts.js";

/** Hex sha256 of a participant key: the only form in which Redis holds it. */
export function hashParticipantKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** Participant keys start with this, so the api tries the Redis lookup only for them. */
export const PARTICIPANT_KEY_PREFIX = "syp_";

export interface ParticipantKeyOwner {
  tenant: string;
  agent_id: string;
}

/**
 * The registry of participant agents: a hash per tenant (agent id → JSON record) plus one
 * heartbeat key per agent whose TTL is the liveness signal. An agent whose heartbeat key is gone
 * reads as `offline` at once; the coordinator's sweep then records it and returns its work.
 */
export class AgentDirectory {
  constructor(private readonly ctx: ParticipantContext) {}

  async register(actor: ToolActor, input: z.infer<typeof RegisterAgentInput>): Promise<{ agent: ParticipantAgent; api_key: string }> {
    if (actor.agent_id !== undefined && actor.agent_id !== input.id)
      throw new NonRetryableError("FORBIDDEN", "a participant agent can only register itself");
    const { redis, keys, settings } = this.ctx;
    const tenant = actor.tenant;
    const previous = await this.stored(tenant, input.id);
    const apiKey = `${PARTICIPANT_KEY_PREFIX}${randomBytes(24).toString("base64url")}`;
    const keyHash = hashParticipantKey(apiKey);
    const now = iso(this.ctx.now());
    const record: StoredAgent = {
      id: input.id,
      name: input.name ?? input.id,
      role: input.role,
      model_type: input.model_type,
      model_version: input.model_version,
      capabilities: [...new Set(input.capabilities)].sort(),
      group: input.group,
      status: "available",
      current_task: null,
      registered_at: previous?.registered_at ?? now,
      last_heartbeat: now,
      limits: {
        max_claimed_tasks: Math.min(input.limits?.max_claimed_tasks ?? settings.max_claimed_tasks, settings.max_claimed_tasks),
        max_messages_per_minute: Math.min(
          input.limits?.max_messages_per_minute ?? settings.max_messages_per_minute,
          settings.max_messages_per_minute,
        ),
      },
      key_id: keyHash.slice(0, 12),
      key_hash: keyHash,
    };
    const tx = redis
      .multi()
      .sadd(keys.tenants(), tenant)
      .hset(keys.agents(tenant), input.id, JSON.stringify(record))
      .hset(keys.agentKeys(), keyHash, JSON.stringify({ tenant, agent_id: input.id } satisfies ParticipantKeyOwner))
      .set(keys.heartbeat(tenant, input.id), now, "PX", settings.heartbeat_ttl_ms)
      .srem(keys.offline(tenant), input.id);
    // Registering again rotates the key: the old one stops working.
    if (previous) tx.hdel(keys.agentKeys(), previous.key_hash);
    await tx.exec();
    await this.ctx.events.emit(tenant, "agent.registered", { agent_id: input.id, capabilities: record.capabilities });
    return { agent: view(record), api_key: apiKey };
  }

  /** Removes the agent and revokes its key. Returns whether it existed. */
  async deregister(tenant: string, id: string): Promise<boolean> {
    const { redis, keys } = this.ctx;
    const previous = await this.stored(tenant, id);
    if (!previous) return false;
    await redis
      .multi()
      .hdel(keys.agents(tenant), id)
      .hdel(keys.agentKeys(), previous.key_hash)
      .del(keys.heartbeat(tenant, id))
      .srem(keys.offline(tenant), id)
      .exec();
    await this.ctx.events.emit(tenant, "agent.deregistered", { agent_id: id });
    return true;
  }

  async heartbeat(tenant: string, id: string, input: z.infer<typeof HeartbeatInput>): Promise<ParticipantAgent> {
    const { redis, keys, settings } = this.ctx;
    const record = await this.stored(tenant, id);
    if (!record) throw new NonRetryableError("AGENT_NOT_FOUND", `participant agent '${id}' is not registered`);
    const now = iso(this.ctx.now());
    record.last_heartbeat = now;
    if (input.status) record.status = input.status;
    if (input.current_task !== undefined) record.current_task = input.current_task;
    const replies = await redis
      .multi()
      .hset(keys.agents(tenant), id, JSON.stringify(record))
      .set(keys.heartbeat(tenant, id), now, "PX", settings.heartbeat_ttl_ms)
      .srem(keys.offline(tenant), id)
      .exec();
    const wasOffline = replies?.[2]?.[1] === 1;
    if (wasOffline) await this.ctx.events.emit(tenant, "agent.online", { agent_id: id });
    return view(record);
  }

  async get(tenant: string, id: string): Promise<ParticipantAgent | undefined> {
    const record = await this.stored(tenant, id);
    if (!record) return undefined;
    const alive = (await this.ctx.redis.exists(this.ctx.keys.heartbeat(tenant, id))) === 1;
    return view(record, alive);
  }

  async require(tenant: string, id: string): Promise<ParticipantAgent> {
    const agent = await this.get(tenant, id);
    if (!agent) throw new NonRetryableError("AGENT_NOT_FOUND", `participant agent '${id}' is not registered`);
    return agent;
  }

  /** Ids the sweep has recorded as offline (their work is being or was returned). */
  async offlineIds(tenant: string): Promise<string[]> {
    return this.ctx.redis.smembers(this.ctx.keys.offline(tenant));
  }

  /** Every agent of the tenant, with the effective status (offline once the heartbeat lapsed). */
  async list(tenant: string): Promise<ParticipantAgent[]> {
    const { redis, keys } = this.ctx;
    const raw = await redis.hgetall(keys.agents(tenant));
    const records = Object.values(raw).map((json) => StoredAgent.parse(JSON.parse(json)));
    if (records.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const record of records) pipeline.exists(keys.heartbeat(tenant, record.id));
    const alive = (await pipeline.exec()) ?? [];
    return records.map((record, i) => view(record, alive[i]?.[1] === 1)).sort((a, b) => a.id.localeCompare(b.id));
  }

  async find(tenant: string, filter: z.infer<typeof FindAgentsInput>): Promise<ParticipantAgent[]> {
    const now = this.ctx.now();
    return (await this.list(tenant)).filter(
      (agent) =>
        (filter.capabilities ?? []).every((c) => agent.capabilities.includes(c)) &&
        (filter.role === undefined || agent.role === filter.role) &&
        (filter.statuses === undefined || filter.statuses.includes(agent.status)) &&
        (filter.model_type === undefined || agent.model_type === filter.model_type) &&
        (filter.group === undefined || agent.group === filter.group) &&
        (filter.active_within_seconds === undefined || now - Date.parse(agent.last_heartbeat) <= filter.active_within_seconds * 1_000),
    );
  }

  /** Who owns a participant key (by its hash); undefined for unknown or revoked keys. */
  async keyOwner(keyHash: string): Promise<ParticipantKeyOwner | undefined> {
    const json = await this.ctx.redis.hget(this.ctx.keys.agentKeys(), keyHash);
    if (!json) return undefined;
    const owner = JSON.parse(json) as ParticipantKeyOwner;
    return typeof owner.tenant === "string" && typeof owner.agent_id === "string" ? owner : undefined;
  }

  /**
   * Records that an agent's heartbeat lapsed (it joins the tenant's offline set). True only for the call that made the transition,
   * so the sweep emits one event and schedules one reclaim however many coordinators run.
   */
  async markOffline(tenant: string, id: string): Promise<boolean> {
    const { keys } = this.ctx;
    const marked = await markOffline.run(this.ctx.redis, [keys.agents(tenant), keys.heartbeat(tenant, id), keys.offline(tenant)], [id]);
    return marked === 1;
  }

  /** Whether the agent is registered and its heartbeat fresh. */
  async isAlive(tenant: string, id: string): Promise<boolean> {
    return (await this.ctx.redis.exists(this.ctx.keys.heartbeat(tenant, id))) === 1;
  }

  private async stored(tenant: string, id: string): Promise<StoredAgent | undefined> {
    const json = await this.ctx.redis.hget(this.ctx.keys.agents(tenant), id);
    return json ? StoredAgent.parse(JSON.parse(json)) : undefined;
  }
}

function view(record: StoredAgent, alive = true): ParticipantAgent {
  const { key_hash: _, ...agent } = record;
  return alive ? agent : { ...agent, status: "offline" };
}
