// One shared reader per tenant stream and process: a blocking XREAD on its own
// connection, each entry decoded once, matched once per distinct filter that
// could match it (filters are indexed by their literal prefix), and handed to
// every subscriber of that filter. Redis commands do not grow with the number
// of subscribers.
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import type { EventFilter } from "../filters/eventFilter.js";
import { counters } from "../observability/counters.js";
import type { Logger } from "../observability/logger.js";
import type { TenantKeys } from "../redis/layout.js";
import { compareIds, MIN_ID } from "../redis/streamIds.js";
import { readStreamState } from "../redis/streamState.js";
import { decodeEntries, lastId, type RawEntry } from "./decodeEntries.js";
import type { FeedEvent } from "./feedEvent.js";
import { FilterIndex } from "./filterIndex.js";
import { fellBehind, type Subscription } from "./subscription.js";

/** The subscribers sharing one distinct filter. */
interface FilterGroup {
  filter: EventFilter;
  subs: Set<Subscription>;
  /** Events of the batch being dispatched that matched (set only during dispatch). */
  matched: FeedEvent[] | undefined;
}

export interface FeedOptions {
  redis: Redis;
  keys: TenantKeys;
  tenantId: string;
  log: Logger;
  readBatch: number;
  blockMs: number;
  /**
   * Shortest time between the starts of two reads. A read that returns at once
   * (a busy stream) is followed by a pause of the remainder, so that what arrives
   * meanwhile is dispatched in one go: fewer, larger writes to every subscriber,
   * which is most of the cost of fan-out. Adds at most this much latency.
   */
  batchMs: number;
  onIdle: (feed: StreamFeed) => void;
}

export class StreamFeed {
  /** Last stream ID read and dispatched; everything up to it has been offered. */
  lastId = MIN_ID;
  readonly redis: Redis;
  readonly keys: TenantKeys;
  readonly tenantId: string;
  readonly log: Logger;
  private readonly groups = new Map<string, FilterGroup>();
  /** Every group but the match-all one, indexed for dispatch. */
  private readonly index = new FilterIndex<FilterGroup>();
  private readonly candidates: FilterGroup[] = [];
  private count = 0;
  private reader: Redis | undefined;
  private stopped = false;
  private loopDone: Promise<void> = Promise.resolve();

  constructor(private readonly opts: FeedOptions) {
    this.redis = opts.redis;
    this.keys = opts.keys;
    this.tenantId = opts.tenantId;
    this.log = opts.log.child({ stream: opts.keys.events });
  }

  get subscriberCount(): number {
    return this.count;
  }

  /** Learns where the stream ends, then starts the blocking reader from there. */
  async start(): Promise<void> {
    const state = await readStreamState(this.redis, this.keys);
    if (this.stopped) return; // stopped (server closing) while it was starting: open nothing
    this.lastId = state.lastGeneratedId;
    this.reader = this.redis.duplicate({ connectionName: "streamgate-feed" });
    this.reader.on("error", () => {}); // reconnects on its own; the loop logs failures
    this.loopDone = this.loop(this.reader);
  }

  add(sub: Subscription): void {
    const key = sub.filter.key;
    let group = this.groups.get(key);
    if (!group) {
      group = { filter: sub.filter, subs: new Set(), matched: undefined };
      this.groups.set(key, group);
      if (!sub.filter.matchesAll) this.index.add(group);
    }
    group.subs.add(sub);
    this.count++;
    sub.begin();
  }

  remove(sub: Subscription): void {
    const group = this.groups.get(sub.filter.key);
    if (!group?.subs.delete(sub)) return;
    this.count--;
    if (group.subs.size === 0) {
      this.groups.delete(sub.filter.key);
      if (!group.filter.matchesAll) this.index.delete(group);
    }
    if (this.count === 0) this.opts.onIdle(this);
  }

  subscribers(): Subscription[] {
    return [...this.groups.values()].flatMap((g) => [...g.subs]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.reader?.disconnect(); // interrupts the blocking XREAD
    await this.loopDone;
  }

  private async loop(reader: Redis): Promise<void> {
    let failures = 0;
    let readAt = 0;
    while (!this.stopped) {
      const wait = readAt + this.opts.batchMs - performance.now();
      if (wait > 0) await sleep(wait);
      readAt = performance.now();
      let reply: [Buffer, RawEntry[]][] | null;
      let trimmedUpTo: string | null;
      try {
        // The trim marker is read right after each read: an ID above our last position
        // means retention removed entries before this feed read them.
        const res = await reader
          .pipeline()
          .xreadBuffer("COUNT", this.opts.readBatch, "BLOCK", this.opts.blockMs, "STREAMS", this.keys.events, this.lastId)
          .get(this.keys.trimmed)
          .exec();
        const [[readErr, read], [, marker]] = res as [[Error | null, unknown], [Error | null, string | null]];
        if (readErr) throw readErr;
        reply = read as [Buffer, RawEntry[]][] | null;
        trimmedUpTo = marker;
        failures = 0;
      } catch (err) {
        if (this.stopped) return;
        failures++;
        if (failures === 1 || failures % 50 === 0) this.log.warn({ err, failures }, "stream read failed; retrying");
        await sleep(Math.min(100 * failures, 2000));
        continue;
      }
      const entries = reply?.[0]?.[1];
      if (!entries || entries.length === 0 || this.stopped) continue;
      if (trimmedUpTo && compareIds(trimmedUpTo, this.lastId) > 0) this.trimmedAhead(trimmedUpTo);
      this.lastId = lastId(entries);
      this.dispatch(decodeEntries(entries, this.tenantId, this.keys.events, this.log));
    }
  }

  /**
   * Retention trimmed entries this feed had not read yet (a burst larger than the
   * tier's buffer): live subscribers behind `trimmedUpTo` missed events, so they
   * end with RESOURCE_EXHAUSTED rather than silently skipping them.
   */
  private trimmedAhead(trimmedUpTo: string): void {
    counters.feedGaps++;
    this.log.warn({ lastId: this.lastId, trimmedUpTo }, "retention trimmed events before the shared reader read them");
    for (const sub of this.subscribers()) {
      if (sub.state === "live" && compareIds(sub.position, trimmedUpTo) < 0) sub.close(fellBehind(sub.lastSent, trimmedUpTo));
    }
  }

  private dispatch(events: FeedEvent[]): void {
    if (events.length === 0) return;
    const all = this.groups.get("");
    if (all) for (const sub of all.subs) sub.offer(events);
    if (this.index.size === 0) return;
    // Each group collects its matches in stream order; every subscriber of a
    // group gets the same array (so batch frames are encoded once per group).
    const touched: FilterGroup[] = [];
    const candidates = this.candidates;
    for (const ev of events) {
      candidates.length = 0;
      this.index.candidates(ev, candidates);
      for (const group of candidates) {
        if (!group.filter.matches(ev)) continue;
        if (group.matched) group.matched.push(ev);
        else {
          group.matched = [ev];
          touched.push(group);
        }
      }
    }
    candidates.length = 0;
    for (const group of touched) {
      const matched = group.matched as FeedEvent[];
      group.matched = undefined;
      for (const sub of group.subs) sub.offer(matched);
    }
  }
}
