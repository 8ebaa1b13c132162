/**
 * Every Redis key of the participants package. Tenant keys carry the tenant in a hash tag
 * (`{tenant}`), so all of one tenant's participant keys live in one Cluster slot and Lua
 * scripts may touch several of them.
 */
export class ParticipantKeys {
  constructor(readonly prefix: string) {}

  private t(tenant: string): string {
    return `${this.prefix}:p:{${tenant}}`;
  }

  /** Set of tenants that have participant state (the coordinator's sweep walks it). */
  tenants(): string {
    return `${this.prefix}:p:tenants`;
  }

  /** Hash: sha256(hex) of a participant key → JSON {tenant, agent_id}. Global: a key names its tenant. */
  agentKeys(): string {
    return `${this.prefix}:p:agentkeys`;
  }

  /** Hash: agent id → JSON ParticipantAgent record. */
  agents(tenant: string): string {
    return `${this.t(tenant)}:agents`;
  }

  /** String with a TTL: present while the agent's heartbeat is fresh. */
  heartbeat(tenant: string, agent: string): string {
    return `${this.t(tenant)}:hb:${agent}`;
  }

  /** Set: agents the sweep found with a lapsed heartbeat (cleared by their next heartbeat). */
  offline(tenant: string): string {
    return `${this.t(tenant)}:offline`;
  }

  /** Hash: one participant task (scalar fields; `spec` and `result` are JSON). */
  task(tenant: string, id: string): string {
    return `${this.t(tenant)}:task:${id}`;
  }

  /** Prefix of task hashes, for Lua scripts that build task keys from ids. */
  taskPrefix(tenant: string): string {
    return `${this.t(tenant)}:task:`;
  }

  /** Sorted set: pending (claimable) task ids, scored by a FIFO sequence. */
  pending(tenant: string): string {
    return `${this.t(tenant)}:tasks:pending`;
  }

  /** Counter feeding the pending FIFO scores. */
  pendingSeq(tenant: string): string {
    return `${this.t(tenant)}:tasks:seq`;
  }

  /** Sorted set: every task id, scored by creation time (listing). */
  allTasks(tenant: string): string {
    return `${this.t(tenant)}:tasks:all`;
  }

  /** Set: ids of tasks an agent holds claimed. */
  claimed(tenant: string, agent: string): string {
    return `${this.claimedPrefix(tenant)}${agent}`;
  }

  claimedPrefix(tenant: string): string {
    return `${this.t(tenant)}:tasks:claimed:`;
  }

  /** Sorted set: task ids with a deadline, scored by it (ms). */
  deadlines(tenant: string): string {
    return `${this.t(tenant)}:tasks:deadlines`;
  }

  /** Set: child task ids of a parent task. */
  children(tenant: string, parent: string): string {
    return `${this.t(tenant)}:task:${parent}:children`;
  }

  /** Hash: subtask id → "waiter>holder" (the delegation wait-for graph). */
  waits(tenant: string): string {
    return `${this.t(tenant)}:waits`;
  }

  /** Stream: an agent's inbox (consumer group `inbox`). */
  inbox(tenant: string, agent: string): string {
    return `${this.t(tenant)}:inbox:${agent}`;
  }

  /** Sorted set: send times of one sender (sliding-window flooding check). */
  sendWindow(tenant: string, agent: string): string {
    return `${this.t(tenant)}:rate:send:${agent}`;
  }

  /** Sorted set: recipients a sender wrote to, scored by last send time. */
  recipients(tenant: string, agent: string): string {
    return `${this.t(tenant)}:sent:${agent}`;
  }

  /** Hash: one file lock {owner, token, path}; expires with its TTL. */
  lock(tenant: string, path: string): string {
    return `${this.t(tenant)}:lock:${path}`;
  }

  /** Counter: fencing tokens. Never expires, so tokens only grow. */
  fence(tenant: string): string {
    return `${this.t(tenant)}:lock-fence`;
  }

  /** Hash: collaboration session id → JSON. */
  sessions(tenant: string): string {
    return `${this.t(tenant)}:sessions`;
  }

  /** Stream: a collaboration session's shared thread. */
  sessionThread(tenant: string, id: string): string {
    return `${this.t(tenant)}:session:${id}:thread`;
  }

  /** List: JSON evaluations of one agent's contributions, newest first. */
  evaluations(tenant: string, agent: string): string {
    return `${this.t(tenant)}:evals:${agent}`;
  }

  projects(tenant: string): string {
    return `${this.t(tenant)}:projects`;
  }

  goals(tenant: string): string {
    return `${this.t(tenant)}:goals`;
  }

  /** Stream: coordination events (offline, re-delegated, flooding, deadlock…), capped. */
  events(tenant: string): string {
    return `${this.t(tenant)}:events`;
  }
}
