/**
 * Every Redis key Switchyard writes outside BullMQ, in one place. All start with the configured
 * prefix; everything a tenant owns has the tenant in its key, so no lookup can cross tenants.
 */
export class Keys {
  constructor(readonly prefix: string) {}

  /** Hash: task id → agent name (which queue holds the job). */
  tenantTasks(tenant: string): string {
    return `${this.prefix}:t:${tenant}:tasks`;
  }

  /** Sorted set of task ids, all scored 0: lexical order is creation order (ids are time-sortable). */
  tenantTaskOrder(tenant: string): string {
    return `${this.prefix}:t:${tenant}:tasks:order`;
  }

  /** Set of tenants that have created anything (for housekeeping sweeps). */
  tenants(): string {
    return `${this.prefix}:tenants`;
  }

  /** Hash: agent name → JSON catalog entry. */
  catalog(): string {
    return `${this.prefix}:catalog`;
  }

  /** Sorted set: worker id → expiry (ms) of its claim to serve the agent. */
  catalogWorkers(agent: string): string {
    return `${this.prefix}:catalog:workers:${agent}`;
  }

  /** Hash: agent name → JSON of an agent registered at run time. */
  agents(): string {
    return `${this.prefix}:agents`;
  }

  /** Pub/sub channel announcing registry changes (message: JSON AgentRegistryChange). */
  agentsChannel(): string {
    return `${this.prefix}:agents:changed`;
  }

  /** Pub/sub channel announcing catalog changes (message: agent name). */
  catalogChannel(): string {
    return `${this.prefix}:catalog:changed`;
  }

  /** String: `<task id>|<request hash>` for an Idempotency-Key, expiring after its window. */
  idempotency(tenant: string, keyHash: string): string {
    return `${this.prefix}:t:${tenant}:idem:${keyHash}`;
  }

  /** Sorted set: task ids (member `<agent>|<task id>`) submitted and not yet started, by creation time (quota). */
  tenantQueued(tenant: string): string {
    return `${this.prefix}:t:${tenant}:queued`;
  }

  /** String: JSON TaskView of a task that ended without its job (cancelled while queued, agent removed). */
  taskTombstone(tenant: string, taskId: string): string {
    return `${this.prefix}:t:${tenant}:ended:${taskId}`;
  }

  /** Stream: the tenant's audit log. */
  audit(tenant: string): string {
    return `${this.prefix}:t:${tenant}:audit`;
  }

  /** Hash: token bucket of one API key (tokens, last refill). */
  rateLimit(keyId: string): string {
    return `${this.prefix}:rl:${keyId}`;
  }

  /** Pub/sub channel asking workers to abort a running task (message: JSON TaskCancelRequest). */
  cancelChannel(): string {
    return `${this.prefix}:tasks:cancel`;
  }

  /** Hash: sha256(API key) → JSON StoredApiKey (keys created through the API). */
  apiKeys(): string {
    return `${this.prefix}:apikeys`;
  }

  /** Hash: key id → sha256(API key), the tenant's keys. */
  tenantApiKeys(tenant: string): string {
    return `${this.prefix}:t:${tenant}:apikeys`;
  }

  /** Hash: circuit breaker state of an agent's models (`<model>|state`, `|failures`, `|open_until`, …). */
  breaker(agent: string): string {
    return `${this.prefix}:breaker:${agent}`;
  }

  /** Pub/sub channel announcing that a circuit opened (message: JSON BreakerOpened). */
  breakerOpenedChannel(): string {
    return `${this.prefix}:breakers:opened`;
  }

  /** Hash: a tenant's LLM usage (totals and `<agent>|<field>`). */
  tenantUsage(tenant: string): string {
    return `${this.prefix}:t:${tenant}:usage`;
  }

  /** Hash: an agent's LLM usage across tenants (totals and `<model>|<field>`). */
  agentUsage(agent: string): string {
    return `${this.prefix}:usage:agent:${agent}`;
  }

  /** Counter of requests or tokens an agent used in one minute window. */
  budget(agent: string, kind: "requests" | "tokens", window: number): string {
    return `${this.prefix}:budget:${agent}:${kind}:${window}`;
  }

  /** String: JSON checkpoint of a running task (an agent run's transcript between steps). */
  runCheckpoint(taskId: string): string {
    return `${this.prefix}:run:${taskId}:checkpoint`;
  }
}
