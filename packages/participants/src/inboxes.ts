import { randomBytes } from "node:crypto";
import { NonRetryableError, SwitchyardError } from "@switchyard/core";
import type { z } from "zod";
import { iso, type ParticipantContext, pause } from "./context.js";
import type { AgentDirectory } from "./directory.js";
import { fieldMap } from "./events.js";
import type { CollaborationSession, InboxMessage, SendMessageInput } from "./schemas.js";
import { slidingWindow } from "./scripts.js";

const GROUP = "inbox";
const MAX_INBOX = 10_000;
const WINDOW_MS = 60_000;
const POLL_MS = 100;

export interface SentMessage {
  message_ids: string[];
  recipients: string[];
}

export interface FrequencyReport {
  agent_id: string;
  window_seconds: number;
  count: number;
  limit: number;
  throttled: boolean;
}

/**
 * Inboxes on Redis streams: one stream per agent, read through the consumer group `inbox` with
 * the agent id as consumer. A message stays pending until the agent acknowledges it; one that a
 * reader took and never acknowledged (it crashed) is handed out again after
 * `message_redeliver_after_ms` (XAUTOCLAIM). A stream is append-ordered, so messages from one
 * sender arrive in the order sent.
 */
export class Inboxes {
  constructor(
    private readonly ctx: ParticipantContext,
    private readonly directory: AgentDirectory,
  ) {}

  async send(tenant: string, from: string, input: z.infer<typeof SendMessageInput>, session?: CollaborationSession): Promise<SentMessage> {
    const sender = await this.directory.require(tenant, from);
    let recipients: string[];
    if (session) {
      if (!session.participants.includes(from) && session.coordinator !== from)
        throw new NonRetryableError("FORBIDDEN", `'${from}' is not in collaboration session ${session.session_id}`);
      recipients = [...new Set([...session.participants, session.coordinator])].filter((id) => id !== from);
    } else {
      const to = input.to as string;
      await this.directory.require(tenant, to);
      recipients = [to];
    }
    await this.throttle(tenant, from, sender.limits.max_messages_per_minute);
    const { redis, keys } = this.ctx;
    const now = this.ctx.now();
    const fields = (to: string) => [
      "from",
      from,
      "to",
      to,
      "kind",
      input.kind,
      "subject",
      input.subject,
      "body",
      JSON.stringify(input.body ?? null),
      "session_id",
      session?.session_id ?? "",
      "sent_at",
      iso(now),
    ];
    const ids: string[] = [];
    for (const to of recipients) {
      await this.ensureGroup(tenant, to);
      const id = await redis.xadd(keys.inbox(tenant, to), "MAXLEN", "~", MAX_INBOX, "*", ...fields(to));
      if (id) ids.push(id);
      await redis.zadd(keys.recipients(tenant, from), now, to);
    }
    if (session) await redis.xadd(keys.sessionThread(tenant, session.session_id), "MAXLEN", "~", MAX_INBOX, "*", ...fields(""));
    return { message_ids: ids, recipients };
  }

  /**
   * Messages for the agent: first those handed out before but not acknowledged within the
   * redelivery time, then new ones; waits up to `waitMs` when there are none.
   */
  async read(tenant: string, agentId: string, max: number, waitMs: number, ack: string[], signal?: AbortSignal): Promise<InboxMessage[]> {
    await this.directory.require(tenant, agentId);
    if (ack.length > 0) await this.ack(tenant, agentId, ack);
    const { redis, keys, settings } = this.ctx;
    const stream = keys.inbox(tenant, agentId);
    await this.ensureGroup(tenant, agentId);
    const deadline = this.ctx.now() + Math.min(waitMs, settings.max_wait_ms);
    for (;;) {
      const claimed = (await redis.xautoclaim(stream, GROUP, agentId, settings.message_redeliver_after_ms, "0-0", "COUNT", max)) as [
        string,
        [string, string[] | null][],
        string[]?,
      ];
      const entries = claimed[1].filter((entry): entry is [string, string[]] => Array.isArray(entry[1]));
      if (entries.length < max) {
        const fresh = (await redis.xreadgroup("GROUP", GROUP, agentId, "COUNT", max - entries.length, "STREAMS", stream, ">")) as
          | [string, [string, string[]][]][]
          | null;
        for (const [, list] of fresh ?? []) entries.push(...list);
      }
      if (entries.length > 0) {
        entries.sort((a, b) => compareIds(a[0], b[0]));
        const deliveries = await this.deliveryCounts(stream, agentId, entries);
        return entries.map(([id, raw]) => toMessage(id, fieldMap(raw), deliveries.get(id) ?? 1));
      }
      const left = deadline - this.ctx.now();
      if (left <= 0 || signal?.aborted) return [];
      await pause(Math.min(POLL_MS, left), signal);
    }
  }

  async ack(tenant: string, agentId: string, ids: string[]): Promise<number> {
    return this.ctx.redis.xack(this.ctx.keys.inbox(tenant, agentId), GROUP, ...ids);
  }

  /** Messages handed to the agent and not acknowledged yet. */
  async unacknowledged(tenant: string, agentId: string): Promise<number> {
    try {
      const summary = (await this.ctx.redis.xpending(this.ctx.keys.inbox(tenant, agentId), GROUP)) as [number, ...unknown[]];
      return Number(summary[0] ?? 0);
    } catch {
      return 0; // no inbox yet
    }
  }

  /** Messages in the inbox never handed out yet. */
  async unread(tenant: string, agentId: string): Promise<number> {
    try {
      const groups = (await this.ctx.redis.xinfo("GROUPS", this.ctx.keys.inbox(tenant, agentId))) as unknown[][];
      for (const group of groups) {
        const map = new Map<string, unknown>();
        for (let i = 0; i + 1 < group.length; i += 2) map.set(String(group[i]), group[i + 1]);
        if (map.get("name") === GROUP) return Number(map.get("lag") ?? 0);
      }
      return 0;
    } catch {
      return 0;
    }
  }

  /** Sliding-window count of what the agent sent in the last minute, against its limit. */
  async frequency(tenant: string, agentId: string): Promise<FrequencyReport> {
    const agent = await this.directory.require(tenant, agentId);
    const now = this.ctx.now();
    const count = await this.ctx.redis.zcount(this.ctx.keys.sendWindow(tenant, agentId), now - WINDOW_MS, "+inf");
    const limit = agent.limits.max_messages_per_minute;
    return { agent_id: agentId, window_seconds: WINDOW_MS / 1_000, count, limit, throttled: count >= limit };
  }

  /** Agents the sender wrote to since `sinceMs`. */
  async recentRecipients(tenant: string, agentId: string, sinceMs: number): Promise<string[]> {
    return this.ctx.redis.zrangebyscore(this.ctx.keys.recipients(tenant, agentId), sinceMs, "+inf");
  }

  private async throttle(tenant: string, from: string, limit: number): Promise<void> {
    const now = this.ctx.now();
    const reply = (await slidingWindow.run(
      this.ctx.redis,
      [this.ctx.keys.sendWindow(tenant, from)],
      [now, WINDOW_MS, limit, `${now}-${randomBytes(4).toString("hex")}`],
    )) as [number, number, string?];
    if (reply[0] === 1) return;
    const retryAfterMs = Math.max(1, Number(reply[2] ?? now) + WINDOW_MS - now);
    await this.ctx.events.emit(tenant, "message.flooding", { agent_id: from, count: reply[1], limit, window_seconds: WINDOW_MS / 1_000 });
    throw new SwitchyardError("RATE_LIMITED", `agent '${from}' sent ${reply[1]} messages in the last minute (limit ${limit})`, {
      details: { count: reply[1], limit, window_seconds: WINDOW_MS / 1_000 },
      retryAfterMs,
    });
  }

  private async ensureGroup(tenant: string, agentId: string): Promise<void> {
    try {
      // From the stream's start: messages sent before the first read are not skipped.
      await this.ctx.redis.xgroup("CREATE", this.ctx.keys.inbox(tenant, agentId), GROUP, "0", "MKSTREAM");
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes("BUSYGROUP")) throw error;
    }
  }

  private async deliveryCounts(stream: string, consumer: string, entries: [string, string[]][]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    const first = entries[0]?.[0];
    const last = entries[entries.length - 1]?.[0];
    if (!first || !last) return counts;
    const rows = (await this.ctx.redis.xpending(stream, GROUP, first, last, entries.length * 2 + 10, consumer)) as [
      string,
      string,
      number,
      number,
    ][];
    for (const row of rows) counts.set(row[0], Number(row[3]));
    return counts;
  }
}

function compareIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split("-").map(BigInt) as [bigint, bigint];
  return am === bm ? (as < bs ? -1 : as > bs ? 1 : 0) : am < bm ? -1 : 1;
}

function toMessage(id: string, map: Record<string, string>, deliveries: number): InboxMessage {
  return {
    id,
    from: map.from ?? "",
    to: map.to ?? "",
    kind: map.kind ?? "message",
    subject: map.subject ?? "",
    body: map.body ? JSON.parse(map.body) : null,
    session_id: map.session_id || null,
    sent_at: map.sent_at ?? "",
    deliveries,
  };
}

export { WINDOW_MS as MESSAGE_WINDOW_MS };
