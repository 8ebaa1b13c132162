/** Participant settings for package tests: slow sweeps, no key cache. */
export const SETTINGS = {
  heartbeat_ttl_ms: 30_000,
  offline_grace_ms: 1_000,
  sweep_every_ms: 1_000,
  max_claimed_tasks: 5,
  max_messages_per_minute: 100,
  message_redeliver_after_ms: 1_000,
  max_lock_ttl_ms: 60_000,
  max_wait_ms: 30_000,
  key_cache_ms: 0,
};
