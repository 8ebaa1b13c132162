import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import { z } from "zod";
import type { Keys } from "./keys.js";
import type { SharedBreaker } from "./shared-breaker.js";

/** Published by the breaker script when a circuit opens (channel: Keys.breakerOpenedChannel). */
export const BreakerOpened = z.object({ agent: z.string().min(1), model: z.string() });
export type BreakerOpened = z.infer<typeof BreakerOpened>;

export interface BreakerAnnouncementsOptions {
  /** A connection of its own (it is put in subscriber mode); its owner closes it. */
  subscriber: Redis;
  keys: Keys;
  breaker: SharedBreaker;
  logger?: { debug(obj: object, msg?: string): void };
}

/**
 * Feeds "circuit opened" announcements to a SharedBreaker and tells it whether it may trust its
 * local views: only while the subscription is known to be in place (subscribed on the current
 * connection). A dropped connection stops local answers at once; after a reconnect they resume
 * once the channel is subscribed again. Emits `following` (boolean) on each change and `opened`
 * (BreakerOpened) after the breaker dropped a view.
 */
export class BreakerAnnouncements extends EventEmitter {
  private readonly channel: string;
  /** Bumped on every disconnect: a SUBSCRIBE reply from before it says nothing now. */
  private connection = 0;
  private closed = false;

  constructor(private readonly options: BreakerAnnouncementsOptions) {
    super();
    this.channel = options.keys.breakerOpenedChannel();
  }

  /** Starts listening; resolves once the channel is subscribed (local answers may start). */
  async start(): Promise<void> {
    const { subscriber } = this.options;
    subscriber.on("message", this.onMessage);
    subscriber.on("close", this.onClose);
    subscriber.on("ready", this.onReady);
    await this.subscribe();
  }

  /** Stops feeding the breaker (which then asks Redis on every acquire). */
  close(): void {
    this.closed = true;
    const { subscriber } = this.options;
    subscriber.off("message", this.onMessage);
    subscriber.off("close", this.onClose);
    subscriber.off("ready", this.onReady);
    this.follow(false);
  }

  private readonly onMessage = (channel: string, message: string): void => {
    if (channel !== this.channel) return;
    let opened: BreakerOpened;
    try {
      opened = BreakerOpened.parse(JSON.parse(message));
    } catch {
      this.options.logger?.debug({ channel }, "ignored a malformed breaker announcement");
      return;
    }
    this.options.breaker.opened(opened.agent, opened.model);
    this.emit("opened", opened);
  };

  private readonly onClose = (): void => {
    this.connection++;
    this.follow(false);
  };

  private readonly onReady = (): void => {
    this.subscribe().catch((error: Error) => this.options.logger?.debug({ err: error.message }, "breaker announcements: subscribe failed"));
  };

  private async subscribe(): Promise<void> {
    const connection = this.connection;
    await this.options.subscriber.subscribe(this.channel);
    if (!this.closed && connection === this.connection && this.options.subscriber.status === "ready") this.follow(true);
  }

  private follow(following: boolean): void {
    if (this.options.breaker.isFollowing === following) return;
    this.options.breaker.setFollowing(following);
    this.emit("following", following);
  }
}
