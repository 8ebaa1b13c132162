/**
 * Queue names. One BullMQ queue per agent, so that per-agent concurrency and rate limits are
 * BullMQ's own (worker concurrency, queue limiter). BullMQ forbids ':' in names; agent names
 * cannot contain '.' so `agent.<name>` is unambiguous.
 */
export function agentQueueName(agent: string): string {
  return `agent.${agent}`;
}

export function agentFromQueueName(queue: string): string | undefined {
  return queue.startsWith("agent.") ? queue.slice("agent.".length) : undefined;
}

/** The coordinator's own queue: housekeeping now, workflow step completions later. */
export const COORDINATOR_QUEUE = "coordinator";
