import { AgentConfig } from "@switchyard/config";
import type { Redis } from "ioredis";
import { z } from "zod";
import type { Keys } from "./keys.js";

/** An agent registered at run time (through the API), as stored in Redis. */
export const RegisteredAgent = z.object({
  name: z.string(),
  config: AgentConfig,
  created_at: z.number().int(),
  /** Key id of whoever registered it (never the key itself). */
  created_by: z.string(),
  tenant: z.string(),
});
export type RegisteredAgent = z.infer<typeof RegisteredAgent>;

/** Announced on the registry channel after every change. */
export const AgentRegistryChange = z.object({ op: z.enum(["add", "remove"]), name: z.string() });
export type AgentRegistryChange = z.infer<typeof AgentRegistryChange>;

/**
 * Agents added at run time, shared by every api and worker through Redis. Config-file agents are
 * not stored here; the effective agent set is config ∪ registry. Stored configs may hold
 * credentials: they are returned to workers only, never through the API.
 */
export class AgentRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** False when the name is taken. */
  async add(agent: RegisteredAgent): Promise<boolean> {
    const created = await this.redis.hsetnx(this.keys.agents(), agent.name, JSON.stringify(agent));
    if (created === 1) await this.announce({ op: "add", name: agent.name });
    return created === 1;
  }

  /** False when there was no such agent. */
  async remove(name: string): Promise<boolean> {
    const removed = await this.redis.hdel(this.keys.agents(), name);
    if (removed === 1) await this.announce({ op: "remove", name });
    return removed === 1;
  }

  async get(name: string): Promise<RegisteredAgent | undefined> {
    const json = await this.redis.hget(this.keys.agents(), name);
    return json ? parse(json) : undefined;
  }

  /** Every registered agent that still validates (a bad record is skipped, not fatal). */
  async all(): Promise<RegisteredAgent[]> {
    const raw = await this.redis.hgetall(this.keys.agents());
    return Object.values(raw)
      .map(parse)
      .filter((agent): agent is RegisteredAgent => agent !== undefined);
  }

  channel(): string {
    return this.keys.agentsChannel();
  }

  private async announce(change: AgentRegistryChange): Promise<void> {
    await this.redis.publish(this.keys.agentsChannel(), JSON.stringify(change));
  }
}

function parse(json: string): RegisteredAgent | undefined {
  try {
    const parsed = RegisteredAgent.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
