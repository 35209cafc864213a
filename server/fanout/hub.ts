import { StreamgateError } from "../errors.js";
import type { Logger } from "../observability/logger.js";
import type { SgRedis } from "../redis/commands.js";
import type { TenantKeys } from "../redis/layout.js";
import { StreamFeed } from "./streamFeed.js";
import { Subscription, type SubscriptionOptions } from "./subscription.js";

export interface HubOptions {
  redis: SgRedis;
  log: Logger;
  readBatch: number;
  /** Bytes one shared read aims for (see ReadSize). */
  readBytes: number;
  lingerMs: number;
  /** Shortest time between two reads of one feed (see StreamFeed's batchMs). */
  batchMs: number;
  blockMs?: number;
}

/** The process's shared feeds, one per tenant stream, started on first use. */
export class Hub {
  private readonly feeds = new Map<string, { feed: StreamFeed; started: Promise<void>; linger?: NodeJS.Timeout }>();
  private closing = false;

  constructor(private readonly opts: HubOptions) {}

  /** Live subscriptions across all streams. */
  get subscriberCount(): number {
    let n = 0;
    for (const { feed } of this.feeds.values()) n += feed.subscriberCount;
    return n;
  }

  /** Shared readers currently running. */
  get feedCount(): number {
    return this.feeds.size;
  }

  /** Every open subscription (for metrics sampled at scrape time). */
  subscriptions(): Subscription[] {
    return [...this.feeds.values()].flatMap(({ feed }) => feed.subscribers());
  }

  /** Registers a subscription on the tenant's feed, starting the feed if needed. */
  async subscribe(keys: TenantKeys, tenantId: string, opts: SubscriptionOptions): Promise<Subscription> {
    if (this.closing) throw new StreamgateError(14, "server is shutting down; retry against another replica");
    let entry = this.feeds.get(keys.events);
    if (!entry) {
      const feed = new StreamFeed({
        redis: this.opts.redis,
        keys,
        tenantId,
        log: this.opts.log,
        readBatch: this.opts.readBatch,
        readBytes: this.opts.readBytes,
        blockMs: this.opts.blockMs ?? 5000,
        batchMs: this.opts.batchMs,
        onIdle: (f) => this.scheduleStop(f),
      });
      const started = feed.start();
      entry = { feed, started };
      this.feeds.set(keys.events, entry);
      started.catch(() => this.feeds.delete(keys.events));
    }
    if (entry.linger) {
      clearTimeout(entry.linger);
      entry.linger = undefined;
    }
    await entry.started;
    // A cursor checked against an epoch this feed has not seen: another replica moved the stream on
    // (or it changed since this feed last read). The feed checks and catches up first, so that a
    // valid cursor is not refused for the feed's being behind.
    const { start } = opts;
    if (start.kind === "after" && start.epoch !== undefined && start.epoch !== entry.feed.origin.epoch) await entry.feed.verify();
    // The hub may have closed while the feed was starting: nothing may go live on a stopped feed.
    if (this.closing) throw new StreamgateError(14, "server is shutting down; retry against another replica");
    const sub = new Subscription(entry.feed, opts);
    if (opts.signal.aborted) return sub; // the caller went away while the feed started
    entry.feed.add(sub);
    return sub;
  }

  /** Ends every subscription opened by `owner` (e.g. a revoked API key) with the error `errFor` builds. */
  closeOwnedBy(owner: string, errFor: (sub: Subscription) => StreamgateError): number {
    let n = 0;
    for (const { feed } of this.feeds.values()) {
      for (const sub of feed.subscribers()) {
        if (sub.owner !== owner) continue;
        sub.close(errFor(sub));
        n++;
      }
    }
    return n;
  }

  /** The distinct owners of open subscriptions. */
  owners(): Set<string> {
    const out = new Set<string>();
    for (const { feed } of this.feeds.values()) for (const sub of feed.subscribers()) if (sub.owner !== undefined) out.add(sub.owner);
    return out;
  }

  private scheduleStop(feed: StreamFeed): void {
    const entry = this.feeds.get(feed.keys.events);
    if (!entry || entry.feed !== feed) return;
    entry.linger = setTimeout(() => {
      if (feed.subscriberCount > 0) return;
      this.feeds.delete(feed.keys.events);
      void feed.stop();
    }, this.opts.lingerMs);
    entry.linger.unref();
  }

  /** Ends every subscription with `err` (built per subscription) and stops all feeds. */
  async close(errFor: (sub: Subscription) => StreamgateError): Promise<void> {
    this.closing = true;
    const entries = [...this.feeds.values()];
    this.feeds.clear();
    for (const { feed, linger } of entries) {
      if (linger) clearTimeout(linger);
      for (const sub of feed.subscribers()) sub.close(errFor(sub));
    }
    await Promise.all(entries.map(({ feed }) => feed.stop()));
  }

  /** Ends each subscription for which `errFor` returns an error (e.g. one its tenant's new tier no longer allows); returns how many. */
  closeWhere(errFor: (sub: Subscription) => StreamgateError | undefined): number {
    let n = 0;
    for (const { feed } of this.feeds.values()) {
      for (const sub of feed.subscribers()) {
        const err = errFor(sub);
        if (!err) continue;
        sub.close(err);
        n++;
      }
    }
    return n;
  }
}
