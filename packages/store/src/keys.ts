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
}
