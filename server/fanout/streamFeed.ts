// One shared reader per tenant stream and process: a blocking XREAD on its own
// connection, each entry decoded once, matched once per distinct filter that
// could match it (filters are indexed by their literal prefix), and handed to
// every subscriber of that filter. Redis commands do not grow with the number
// of subscribers.
//
// The feed also watches the stream's history: every read also fetches the
// stream's epoch, and after a failed read (Redis restarted, or was replaced) it
// checks that the last event it delivered is still there before reading on. A
// stream created again or rolled back ends every subscriber with DATA_LOSS
// (cursors/epoch.ts) instead of carrying on from a history that lacks events
// they were promised.
import { setTimeout as sleep, setImmediate as yieldToLoop } from "node:timers/promises";
import type { Redis } from "ioredis";
import { placeOf } from "../cursors/checkCursor.js";
import { bumpEpoch } from "../cursors/epoch.js";
import { historyLost } from "../errors.js";
import type { EventFilter } from "../filters/eventFilter.js";
import { counters } from "../observability/counters.js";
import type { Logger } from "../observability/logger.js";
import type { SgRedis } from "../redis/commands.js";
import { blockingConnection } from "../redis/connections.js";
import type { TenantKeys } from "../redis/layout.js";
import { compareIds, MIN_ID } from "../redis/streamIds.js";
import { readStreamState, type StreamState } from "../redis/streamState.js";
import { decodeEntries, lastId, type RawEntry } from "./decodeEntries.js";
import { type FeedEvent, StreamOrigin } from "./feedEvent.js";
import { FilterIndex } from "./filterIndex.js";
import { ReadSize } from "./readSize.js";
import { fellBehind, type Subscription } from "./subscription.js";

/**
 * Longest a feed matches events before it lets the event loop run: other tenants' feeds, RPCs and
 * health checks go between slices. Matching is linear per filter, but one read of 1,000 events
 * against a tenant's 100 distinct hostile filters is still 100,000 matches.
 */
const DISPATCH_SLICE_MS = 5;

/** The subscribers sharing one distinct filter. */
interface FilterGroup {
  filter: EventFilter;
  subs: Set<Subscription>;
  /** Events of the batch being dispatched that matched (set only during dispatch). */
  matched: FeedEvent[] | undefined;
}

export interface FeedOptions {
  redis: SgRedis;
  keys: TenantKeys;
  tenantId: string;
  log: Logger;
  readBatch: number;
  /** Bytes one read aims for (see ReadSize). */
  readBytes: number;
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
  /** The tenant and the stream's epoch, which every event read carries (set by start()). */
  origin!: StreamOrigin;
  readonly redis: SgRedis;
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
  private readonly readSize: ReadSize;
  /** A read failed: before the next one, check that the stream still has the history this feed delivered. */
  private suspect = false;
  private loopDone: Promise<void> = Promise.resolve();

  constructor(private readonly opts: FeedOptions) {
    this.redis = opts.redis;
    this.keys = opts.keys;
    this.tenantId = opts.tenantId;
    this.log = opts.log.child({ stream: opts.keys.events });
    this.readSize = new ReadSize(opts.readBatch, opts.readBytes);
  }

  get subscriberCount(): number {
    return this.count;
  }

  /** Learns where the stream ends, then starts the blocking reader from there. */
  async start(): Promise<void> {
    const state = await readStreamState(this.redis, this.keys);
    if (this.stopped) return; // stopped (server closing) while it was starting: open nothing
    this.adopt(state);
    this.reader = blockingConnection(this.redis, "streamgate-feed", this.opts.blockMs);
    this.reader.on("error", () => {}); // reconnects on its own; the loop logs failures
    // ioredis re-sends the read in flight after a reconnect, so the loop may see no error at all:
    // whatever that read returns comes from a Redis that may have lost data, and is checked first.
    this.reader.on("close", () => {
      this.suspect = true;
    });
    this.loopDone = this.loop(this.reader);
  }

  /** Reads on from the stream's end, in its epoch. */
  private adopt(state: StreamState): void {
    this.origin = new StreamOrigin(this.tenantId, state.epoch);
    this.lastId = state.lastGeneratedId;
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
      let epoch: string | null;
      try {
        if (this.suspect) {
          await this.verify();
          continue;
        }
        // The trim marker and the epoch are read right after each read: a marker above our last
        // position means retention removed entries before this feed read them; another epoch
        // means the stream was created again.
        const res = await reader
          .pipeline()
          .xreadBuffer("COUNT", this.readSize.count, "BLOCK", this.opts.blockMs, "STREAMS", this.keys.events, this.lastId)
          .get(this.keys.trimmed)
          .get(this.keys.epoch)
          .exec();
        const [[readErr, read], [, marker], [, readEpoch]] = res as [
          [Error | null, unknown],
          [Error | null, string | null],
          [Error | null, string | null],
        ];
        if (readErr) throw readErr;
        reply = read as [Buffer, RawEntry[]][] | null;
        trimmedUpTo = marker;
        epoch = readEpoch;
        failures = 0;
      } catch (err) {
        if (this.stopped) return;
        failures++;
        this.suspect = true;
        if (failures === 1 || failures % 50 === 0) this.log.warn({ err, failures }, "stream read failed; retrying");
        await sleep(Math.min(100 * failures, 2000));
        continue;
      }
      if (this.stopped) return;
      // The connection broke under this read (and the read was re-sent): verify before dispatching.
      if (this.suspect) continue;
      if (epoch !== this.origin.epoch) {
        // What this read returned belongs to another history: no subscriber of this one gets it,
        // and verify() ends them and moves the feed to the new one.
        this.suspect = true;
        continue;
      }
      const entries = reply?.[0]?.[1];
      if (!entries || entries.length === 0 || this.stopped) continue;
      this.readSize.observe(entries);
      if (trimmedUpTo && compareIds(trimmedUpTo, this.lastId) > 0) this.trimmedAhead(trimmedUpTo);
      this.lastId = lastId(entries);
      await this.dispatch(decodeEntries(entries, this.origin, this.keys.events, this.log));
    }
  }

  /**
   * Checks that the stream still has the history this feed and its subscribers read: after a
   * failed read (Redis may have restarted without its data, or come back from an older copy), or
   * when a subscriber arrives with a cursor of an epoch this feed has not seen yet (another replica
   * moved the stream on). The furthest event anyone here was handed must still be there (or have
   * been trimmed). A rolled-back stream gets a new epoch (compare-and-set: replicas that notice
   * together agree on one), so that cursors from the old history are refused too. Concurrent calls
   * share one check.
   */
  verify(): Promise<void> {
    this.verifying ??= this.check().finally(() => {
      this.verifying = undefined;
    });
    return this.verifying;
  }

  private verifying: Promise<void> | undefined;

  private async check(): Promise<void> {
    // Cleared first: a break while this check runs must lead to another one (the loop sets it again on failure).
    this.suspect = false;
    const furthest = this.furthestSeen();
    const state = await readStreamState(this.redis, this.keys, furthest === MIN_ID ? "" : furthest);
    if (state.epoch !== this.origin.epoch) {
      this.historyChanged(state, state.created ? "the stream was created again (Redis lost its data)" : "the stream's history changed");
    } else if (placeOf(furthest, state) === "diverged") {
      const epoch = await bumpEpoch(this.redis, this.keys, state.epoch);
      this.historyChanged(
        { ...state, epoch },
        `events up to ${furthest} that were read here are gone (Redis was rolled back to an older copy)`,
      );
    }
  }

  /** The furthest stream ID this feed or any of its subscribers (catch-up reads run ahead of the feed) has read. */
  private furthestSeen(): string {
    let furthest = this.lastId;
    for (const group of this.groups.values()) {
      for (const sub of group.subs) if (compareIds(sub.lastRead, furthest) > 0) furthest = sub.lastRead;
    }
    return furthest;
  }

  /** The stream's history changed under this feed: every subscriber ends with DATA_LOSS; new ones get the new history. */
  private historyChanged(state: StreamState, why: string): void {
    counters.epochChanges++;
    const before = this.origin.epoch;
    this.log.warn({ epoch: before, newEpoch: state.epoch, lastId: this.lastId, subscribers: this.count }, `stream history changed: ${why}`);
    for (const sub of this.subscribers()) {
      sub.close(
        historyLost(
          `${why}: events after cursor ${sub.lastSent || "(none yet)"} may be lost (epoch ${before}, now ${state.epoch})`,
          sub.lastSent,
        ),
      );
    }
    this.adopt(state);
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

  private async dispatch(events: FeedEvent[]): Promise<void> {
    if (events.length === 0) return;
    const all = this.groups.get("");
    if (all) for (const sub of all.subs) sub.offer(events);
    // lastId already covers the whole batch while it is dispatched in slices: a subscriber that starts
    // live meanwhile begins after it, and one that finishes catch-up meanwhile has read the batch from
    // Redis (offer() drops what it already has). A batch of a history that ended meanwhile goes no further.
    const origin = this.origin;
    for (let from = 0; from < events.length && this.index.size > 0; ) {
      from = this.dispatchSlice(events, from, performance.now() + DISPATCH_SLICE_MS);
      if (from < events.length) {
        await yieldToLoop();
        if (this.stopped || this.origin !== origin) return;
      }
    }
  }

  /**
   * Matches events from `from` on, until `deadline` (one event at least), and offers each group its
   * matches; returns where it stopped.
   */
  private dispatchSlice(events: FeedEvent[], from: number, deadline: number): number {
    // Each group collects its matches in stream order; every subscriber of a
    // group gets the same array (so batch frames are encoded once per group).
    const touched: FilterGroup[] = [];
    const candidates = this.candidates;
    let i = from;
    do {
      const ev = events[i++] as FeedEvent;
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
    } while (i < events.length && performance.now() < deadline);
    candidates.length = 0;
    for (const group of touched) {
      const matched = group.matched as FeedEvent[];
      group.matched = undefined;
      for (const sub of group.subs) sub.offer(matched);
    }
    return i;
  }
}
