// One subscriber: catch-up from Redis, then live from the shared feed, with a
// bounded queue and gRPC backpressure. A subscriber whose connection does not
// drain fast enough stops taking live events and continues from Redis from its
// own position (catch-up again), so it never grows memory without bound and
// never loses an event while Redis still retains it.
import { status } from "@grpc/grpc-js";
import { formatCursor } from "../cursors/cursor.js";
import type { StartAt } from "../cursors/startAt.js";
import { historyLost, LAST_CURSOR_TRAILER, REASON_TRAILER, SLOW_CONSUMER, StreamgateError } from "../errors.js";
import type { EventFilter } from "../filters/eventFilter.js";
import { countDelivered, counters } from "../observability/counters.js";
import type { Logger } from "../observability/logger.js";
import { isRedisUnavailable } from "../redis/isRedisUnavailable.js";
import { compareIds, idBefore, MIN_ID } from "../redis/streamIds.js";
import { decodeEntries } from "./decodeEntries.js";
import type { FeedEvent, StreamOrigin } from "./feedEvent.js";
import { readPage } from "./readPage.js";
import { ReadSize } from "./readSize.js";
import type { EventSink } from "./sinks.js";
import type { StreamFeed } from "./streamFeed.js";

export interface SubscriptionOptions {
  filter: EventFilter;
  sink: EventSink;
  start: StartAt;
  /** False for tiers without cursor support: events go out with an empty cursor. */
  includeCursor: boolean;
  maxQueue: number;
  /** Bytes (of events' stored fields) held for a subscriber whose connection is not draining, past which it continues from Redis. */
  maxQueueBytes: number;
  /** Most entries of one catch-up page. */
  pageSize: number;
  /** Bytes one catch-up page aims for (large events: fewer per page). */
  pageBytes: number;
  signal: AbortSignal;
  /** Who opened it (an API key id), so that all of an owner's subscriptions can be ended at once. */
  owner?: string;
  /**
   * The logger for its unexpected failure (the call's: correlation id, tenant); default the
   * stream's. A function, so that an idle subscription does not hold a child logger of its own.
   */
  log?: () => Logger;
}

type State = "catchup" | "live" | "closed";

export class Subscription {
  state: State = "catchup";
  /** Highest stream ID this subscriber has examined or been handed. */
  position = MIN_ID;
  /**
   * Highest ID of an entry its catch-up read from Redis (catch-up may run ahead of the shared
   * feed): the feed checks that it still exists when it verifies the stream's history. Unlike
   * `position`, never a start position nobody read (a from_timestamp in the future).
   */
  lastRead = MIN_ID;
  /** Stream ID of the last event handed to the transport; "" before the first, and always on a tier without cursors. */
  private lastSentId = "";
  /**
   * Set by begin(): every event strictly after this stream ID will be delivered
   * (the feed's position for a live start, the cursor for a resume); undefined
   * for from_beginning/from_timestamp, which no exclusive cursor describes.
   */
  startedAfter: string | undefined;
  /** The stream's tenant and epoch when this subscription began (the feed ends it if the epoch changes). */
  private origin: StreamOrigin;
  readonly filter: EventFilter;
  readonly owner: string | undefined;
  /** The tenant whose stream this reads (a tier change re-checks its tenant's subscriptions). */
  readonly tenantId: string;
  /** Where it began (after the retention bound: a from_beginning may read as "from"). */
  readonly start: StartAt;
  /** Whether its events carry their cursor (the tier it opened under supports cursors). */
  readonly includeCursor: boolean;
  /** Resolves when the subscription ends: with the error to report, or undefined. */
  readonly done: Promise<StreamgateError | undefined>;
  private resolveDone!: (err: StreamgateError | undefined) => void;
  private queue: (readonly FeedEvent[])[] = [];
  private queued = 0;
  private queuedBytes = 0;
  private blocked = false;
  private lagging = false;

  constructor(
    private readonly feed: StreamFeed,
    private readonly opts: SubscriptionOptions,
  ) {
    this.filter = opts.filter;
    this.owner = opts.owner;
    this.tenantId = feed.tenantId;
    this.start = opts.start;
    this.includeCursor = opts.includeCursor;
    this.origin = feed.origin;
    this.done = new Promise((res) => {
      this.resolveDone = res;
    });
    if (opts.signal.aborted) this.state = "closed";
    else opts.signal.addEventListener("abort", () => this.close(undefined), { once: true });
  }

  /**
   * Cursor of the last event handed to the transport, as its client may see it: "" before
   * the first, and always "" on a tier without cursor support (its events carry none, so
   * neither may the trailers and messages that end its stream).
   */
  get lastSent(): string {
    return this.lastSentId && this.origin.cursor(this.lastSentId);
  }

  /** The cursor every event after which will be delivered (see {@link startedAfter}); for the response header. */
  get startCursor(): string | undefined {
    return this.startedAfter === undefined ? undefined : this.origin.cursor(this.startedAfter);
  }

  /** Events waiting in this subscriber's queue for its connection to drain. */
  get queueDepth(): number {
    return this.queued;
  }

  /** Called by the feed right after registering: go live at once or catch up first. */
  begin(): void {
    const start = this.opts.start;
    this.origin = this.feed.origin;
    if (start.kind === "after" && start.epoch !== undefined && start.epoch !== this.origin.epoch) {
      // The cursor was checked, then the stream's history changed before the subscription began.
      const cursor = formatCursor(start.id, start.epoch);
      this.close(historyLost(`cursor ${cursor} is from an earlier history of this stream (now epoch ${this.origin.epoch})`, cursor));
      return;
    }
    if (start.kind === "live") {
      this.position = this.feed.lastId;
      this.startedAfter = this.position;
      this.state = "live";
      return;
    }
    if (start.kind === "after") {
      this.position = start.id;
      this.startedAfter = start.id;
    }
    // From a timestamp: nothing before it, not even from the live feed after the hand-over.
    if (start.kind === "from") this.position = idBefore(start.id);
    const first = start.kind === "after" ? `(${start.id}` : start.kind === "from" ? start.id : "-";
    this.run(() => this.catchUp(first, start.kind === "after" ? status.OUT_OF_RANGE : status.RESOURCE_EXHAUSTED));
  }

  /** Live path, called synchronously by the feed with the events matching this filter. */
  offer(events: readonly FeedEvent[]): void {
    if (this.state !== "live" || this.lagging) return;
    let batch = events;
    // At the catch-up hand-over the feed may re-offer events already sent from Redis.
    if (compareIds((batch[0] as FeedEvent).id, this.position) <= 0) {
      batch = batch.filter((e) => compareIds(e.id, this.position) > 0);
      if (batch.length === 0) return;
    }
    if (this.blocked) {
      let bytes = 0;
      for (const ev of batch) bytes += ev.approxBytes;
      if (this.queued + batch.length > this.opts.maxQueue || this.queuedBytes + bytes > this.opts.maxQueueBytes) {
        // Too far behind: stop taking live events; catch up from `position` once drained.
        this.lagging = true;
        counters.slowConsumerCatchUps++;
        return;
      }
      this.queue.push(batch);
      this.queued += batch.length;
      this.queuedBytes += bytes;
      this.position = (batch[batch.length - 1] as FeedEvent).id;
      return;
    }
    this.position = (batch[batch.length - 1] as FeedEvent).id;
    if (!this.write(batch)) {
      this.blocked = true;
      this.run(() => this.pump());
    }
  }

  /** Ends the subscription; `err` (if any) is reported to the client. Idempotent. */
  close(err: StreamgateError | undefined): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.queue = [];
    this.queued = 0;
    this.queuedBytes = 0;
    this.feed.remove(this);
    this.resolveDone(err);
  }

  private write(batch: readonly FeedEvent[]): boolean {
    if (this.includeCursor) this.lastSentId = (batch[batch.length - 1] as FeedEvent).id;
    countDelivered(this.feed.tenantId, batch.length);
    return this.opts.sink.write(batch);
  }

  private run(task: () => Promise<void>): void {
    task().catch((err: unknown) => {
      if (this.opts.signal.aborted || this.state === "closed") return this.close(undefined);
      if (err instanceof StreamgateError) return this.close(err);
      if (isRedisUnavailable(err)) {
        return this.close(
          new StreamgateError(status.UNAVAILABLE, "Redis is unavailable; resume from your last cursor shortly", {
            [LAST_CURSOR_TRAILER]: this.lastSent,
          }),
        );
      }
      (this.opts.log?.() ?? this.feed.log).error({ err }, "subscription failed");
      this.close(new StreamgateError(status.INTERNAL, "internal error; see server logs", {}, { cause: err }));
    });
  }

  /** Waits for the transport to drain, flushes the queue, then catches up if it lagged. */
  private async pump(): Promise<void> {
    for (;;) {
      await this.opts.sink.drained(this.opts.signal);
      if (this.state === "closed") return;
      let full = false;
      while (this.queue.length > 0 && !full) {
        const batch = this.queue.shift() as readonly FeedEvent[];
        this.queued -= batch.length;
        for (const ev of batch) this.queuedBytes -= ev.approxBytes;
        full = !this.write(batch);
      }
      if (full) continue;
      this.blocked = false;
      if (this.lagging) {
        this.lagging = false;
        this.state = "catchup";
        await this.catchUp(`(${this.position}`, status.RESOURCE_EXHAUSTED);
      }
      return;
    }
  }

  /**
   * Reads from Redis page by page until it reaches what the shared feed has
   * already dispatched, then turns live in the same tick: no gap, and any
   * overlap is dropped by `offer`'s position check.
   */
  private async catchUp(first: string, firstGapCode: status): Promise<void> {
    const { feed, filter } = this;
    // Pages sized in bytes as well as entries: a subscriber that does not read holds at most about
    // two pages (the one being written and the one prefetched) and what its transport buffers.
    const size = new ReadSize(this.opts.pageSize, this.opts.pageBytes);
    // Everything the feed had read before a page was requested was in Redis when the page was read.
    const request = (from: string) => {
      const feedBefore = feed.lastId;
      const count = size.count;
      const read = readPage(feed.redis, feed.keys, from, count).then((page) => ({ page, feedBefore, count }));
      read.catch(() => {}); // a prefetch left behind when the subscription ends must not go unhandled
      return read;
    };
    let start = first;
    let pending = request(start);
    // A gap before the first page means the client's cursor is too old; a gap later means this subscriber fell behind.
    let gapCode = firstGapCode;
    for (;;) {
      const { page, feedBefore, count } = await pending;
      if (this.state === "closed") return;
      size.observe(page.entries);
      if (page.epoch !== this.origin.epoch) {
        throw historyLost(
          `the stream's history changed during catch-up (epoch ${this.origin.epoch}, now ${page.epoch ?? "none"}): events after cursor ${this.lastSent || "(none yet)"} may be lost`,
          this.lastSent,
        );
      }
      if (start.startsWith("(") && compareIds(page.lowWater, this.position) > 0) {
        if (gapCode === status.RESOURCE_EXHAUSTED) throw fellBehind(this.lastSent, page.lowWater);
        throw new StreamgateError(
          gapCode,
          `cursor ${this.position} is older than the retained window (events up to ${page.lowWater} were trimmed); resume with from_beginning or a newer cursor`,
          { [LAST_CURSOR_TRAILER]: this.lastSent },
        );
      }
      const full = page.entries.length >= count;
      const last = page.lastId;
      // A full page means more may follow: ask Redis for the next one while this one is decoded and sent.
      const prefetched = full && last ? request(`(${last}`) : undefined;
      const events = decodeEntries(page.entries, this.origin, feed.keys.events, feed.log);
      const matched = filter.matchesAll ? events : events.filter(filter.matches);
      if (last) {
        this.position = last;
        this.lastRead = last;
      }
      if (matched.length > 0 && !this.write(matched)) await this.opts.sink.drained(this.opts.signal);
      if (this.state !== "catchup") return;
      if (!full) {
        // A short page returned every retained entry from `start` on, so nothing up to
        // feedBefore is missing even if it was trimmed or lies before the start.
        if (compareIds(feedBefore, this.position) > 0) this.position = feedBefore;
        if (compareIds(feed.lastId, this.position) <= 0) {
          this.state = "live";
          return;
        }
      }
      start = `(${this.position}`;
      pending = prefetched ?? request(start);
      gapCode = status.RESOURCE_EXHAUSTED;
    }
  }
}

/** A subscriber that fell behind retention: RESOURCE_EXHAUSTED naming its last delivered cursor (resumable, if still retained). */
export function fellBehind(lastSent: string, trimmedUpTo: string): StreamgateError {
  counters.slowConsumerDisconnects++;
  return new StreamgateError(
    status.RESOURCE_EXHAUSTED,
    `subscriber fell behind the retention window (events up to ${trimmedUpTo} were trimmed); last delivered cursor is ${lastSent || "none"}`,
    { [LAST_CURSOR_TRAILER]: lastSent, [REASON_TRAILER]: SLOW_CONSUMER },
  );
}
