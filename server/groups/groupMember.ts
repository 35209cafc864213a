// One live member of a consumer group. Redis does the load balancing
// (XREADGROUP per member, on its own blocking connection); this loop adds what
// Redis leaves to the client: take back all of your own pending entries after a
// reconnect before reading anything new, claim entries other members left
// unacknowledged past the ack timeout, dead-letter entries that ran out of
// deliveries, acknowledge (and count) pending entries whose stream entry was
// trimmed, and never hold more than max-in-flight unacknowledged deliveries.
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import { historyLost } from "../errors.js";
import { fromStreamFields } from "../events/storedEvent.js";
import { FeedEvent, type StreamOrigin } from "../fanout/feedEvent.js";
import type { EventFilter } from "../filters/eventFilter.js";
import { countDelivered, counters } from "../observability/counters.js";
import type { Logger } from "../observability/logger.js";
import type { SgRedis } from "../redis/commands.js";
import { blockingConnection } from "../redis/connections.js";
import { type GroupKeys, REPLAYED_FROM } from "../redis/layout.js";
import { parseId } from "../redis/streamIds.js";
import type { GroupSettings } from "./joinGroup.js";
import { readNew, type StreamEntries } from "./readNew.js";
import { TakeBackCursor } from "./takeBackCursor.js";

/** A delivery as handed to the transport. */
export interface Delivery {
  /** "<id>" for the events stream, "r/<id>" for the group's retry stream. */
  deliveryId: string;
  event: FeedEvent;
  deliveryCount: number;
}

/** What a {@link GroupMember} needs: where it reads, its limits, and how it hands deliveries to its transport. */
export interface MemberOptions {
  redis: SgRedis;
  keys: GroupKeys;
  group: string;
  member: string;
  /** The tenant and its stream's epoch when the member joined: the cursors of its deliveries. */
  origin: StreamOrigin;
  filter: EventFilter;
  settings: GroupSettings;
  maxInFlight: number;
  readBatch: number;
  claimIntervalMs: number;
  dlqMaxLen: number;
  /** Kumiho clients cannot ack: a delivery counts as done once handed to the transport. */
  autoAck: boolean;
  /** Writes deliveries to the client; false when the transport asks to wait for drain. */
  deliver(deliveries: Delivery[]): boolean;
  drained(signal: AbortSignal): Promise<void>;
  signal: AbortSignal;
  log: Logger;
}

const RETRY_PREFIX = "r/";

export class GroupMember {
  /** Deliveries awaiting ack, with when they were sent. */
  private readonly inFlight = new Map<string, number>();
  private wake: (() => void) | undefined;
  /** Cursor of the last event handed to the transport ("" before the first). */
  lastDelivered = "";

  constructor(private readonly o: MemberOptions) {}

  get pendingCount(): number {
    return this.inFlight.size;
  }

  /** Runs until the signal aborts; rejects on Redis or transport failure. */
  async run(): Promise<void> {
    const { o } = this;
    const reader = blockingConnection(o.redis, "streamgate-group-member", o.claimIntervalMs);
    reader.on("error", () => {});
    const stop = () => {
      this.wake?.();
      reader.disconnect(); // interrupts the blocking XREADGROUP
    };
    o.signal.addEventListener("abort", stop, { once: true });
    // Kumiho members ack on hand-over, so they hold nothing to take back.
    const takeBack = new TakeBackCursor(o.autoAck ? [] : [o.keys.events, o.keys.retry]);
    try {
      let nextClaim = 0;
      while (!o.signal.aborted) {
        if (!takeBack.done) {
          await this.takeBackSome(takeBack);
          continue;
        }
        if (Date.now() >= nextClaim) {
          await this.claimIdle();
          nextClaim = Date.now() + o.claimIntervalMs;
        }
        const room = this.room();
        if (room <= 0) {
          await this.waitForRoom(nextClaim - Date.now());
          continue;
        }
        const reply = await this.read(reader, Math.min(room, o.readBatch), Math.max(1, nextClaim - Date.now()));
        if (o.signal.aborted) return;
        for (const [stream, entries] of reply) await this.handle(stream, entries);
      }
    } catch (err) {
      if (!o.signal.aborted) throw err;
    } finally {
      o.signal.removeEventListener("abort", stop);
      reader.disconnect();
      await this.leave();
    }
  }

  /**
   * Acknowledges deliveries. A late ack (after the ack timeout) still counts: the
   * event was processed, so it is acknowledged even if this member no longer holds it.
   */
  async ack(deliveryIds: readonly string[]): Promise<void> {
    const { events, retry } = this.split(deliveryIds, true);
    if (events.length + retry.length === 0) return;
    const { o } = this;
    const multi = o.redis.multi();
    for (const ids of chunks(events)) multi.xack(o.keys.events, o.group, ...ids).hdel(o.keys.errors, ...ids);
    for (const ids of chunks(retry)) multi.xack(o.keys.retry, o.group, ...ids).hdel(o.keys.errors, ...ids);
    await multi.exec();
    // Acknowledged replays are no longer needed: drop them (and only them) from the retry stream.
    if (retry.length) await o.redis.sgGroupRetryTrim(o.keys.retry, o.group);
    this.wake?.();
  }

  /** Failed processing: keep the error text and make the entries claimable at once (by any member). */
  async nack(deliveryIds: readonly string[], error: string): Promise<void> {
    const { events, retry } = this.split(deliveryIds);
    if (events.length + retry.length === 0) return;
    const { o } = this;
    const multi = o.redis.multi();
    const idle = o.settings.ackTimeoutMs;
    for (const ids of chunks(events)) multi.xclaim(o.keys.events, o.group, o.member, 0, ...ids, "IDLE", idle, "JUSTID");
    for (const ids of chunks(retry)) multi.xclaim(o.keys.retry, o.group, o.member, 0, ...ids, "IDLE", idle, "JUSTID");
    if (error) for (const id of [...events, ...retry]) multi.hset(o.keys.errors, id, error.slice(0, 4096));
    await multi.exec();
    this.wake?.();
  }

  /** Splits delivery ids by stream; only ids this member holds unless `any` (then any well-formed id). */
  private split(deliveryIds: readonly string[], any = false): { events: string[]; retry: string[] } {
    const events: string[] = [];
    const retry: string[] = [];
    for (const d of deliveryIds) {
      const held = this.inFlight.delete(d);
      if (!held && !(any && parseId(d.startsWith(RETRY_PREFIX) ? d.slice(RETRY_PREFIX.length) : d))) continue;
      if (d.startsWith(RETRY_PREFIX)) retry.push(d.slice(RETRY_PREFIX.length));
      else events.push(d);
    }
    return { events, retry };
  }

  private room(): number {
    if (this.o.autoAck) return this.o.readBatch;
    // Deliveries older than the ack timeout may already belong to another member: stop counting them.
    const cutoff = Date.now() - this.o.settings.ackTimeoutMs;
    for (const [id, at] of this.inFlight) if (at < cutoff) this.inFlight.delete(id);
    return this.o.maxInFlight - this.inFlight.size;
  }

  private async waitForRoom(ms: number): Promise<void> {
    await new Promise<void>((res) => {
      const t = setTimeout(res, Math.max(10, ms));
      this.wake = () => {
        clearTimeout(t);
        res();
      };
    });
    this.wake = undefined;
  }

  /** Reads new entries (`>`), at most `room` of them; a failed read is logged and retried by the loop. */
  private async read(reader: Redis, room: number, blockMs: number): Promise<StreamEntries> {
    const { o } = this;
    try {
      return await readNew(reader, { group: o.group, member: o.member, events: o.keys.events, retry: o.keys.retry }, room, blockMs);
    } catch (err) {
      if (o.signal.aborted) return [];
      if (err instanceof Error && /NOGROUP/.test(err.message)) {
        // The group went with its stream: the stream was created again (Redis lost it, or the key
        // was deleted), so the group's position and pending deliveries are gone.
        throw historyLost(
          `consumer group "${o.group}" no longer exists in Redis: its stream was created again (Redis lost its data, or the key was deleted), with the group's position and pending deliveries`,
          this.lastDelivered,
          "rejoin the group to continue with what the stream holds now",
        );
      }
      o.log.warn({ err: (err as Error).message }, "group read failed; retrying");
      await sleep(200);
      return [];
    }
  }

  /**
   * Takes back one page of this member's own pending entries (what it was given
   * before a reconnect and never acknowledged), as many as it has room for; with
   * no room, waits for an ack (or for deliveries to age past the ack timeout).
   */
  private async takeBackSome(cursor: TakeBackCursor): Promise<void> {
    const at = cursor.current();
    if (!at) return;
    const room = this.room();
    if (room <= 0) return this.waitForRoom(this.o.claimIntervalMs);
    const { seen, last } = await this.claim(at.stream, 0, room, this.o.member, at.start);
    cursor.advance(at.stream, room, seen, last);
  }

  private async claimIdle(): Promise<void> {
    for (const stream of [this.o.keys.events, this.o.keys.retry]) {
      const room = this.room();
      if (room <= 0) return;
      await this.claim(stream, this.o.settings.ackTimeoutMs, room, "", "-");
    }
  }

  /** Runs groupClaim.lua on one stream; returns how many pending entries it looked at, and the last one. */
  private async claim(
    stream: string,
    minIdleMs: number,
    count: number,
    owner: string,
    start: string,
  ): Promise<{ seen: number; last: string }> {
    const { o } = this;
    const isRetry = stream === o.keys.retry;
    const [claimed, dead, trimmed, last] = await o.redis.sgGroupClaim(
      stream,
      o.keys.dlq,
      o.keys.errors,
      o.group,
      o.member,
      minIdleMs,
      count,
      o.settings.maxDeliveries,
      owner,
      new Date().toISOString(),
      isRetry ? "retry" : "events",
      o.dlqMaxLen,
      start,
    );
    if (dead) {
      counters.deadLettered += dead;
      o.log.warn({ group: o.group, count: dead }, "moved events to the dead-letter stream after max deliveries");
    }
    if (trimmed) {
      counters.trimmedPending += trimmed;
      o.log.warn({ group: o.group, count: trimmed }, "acknowledged pending entries whose events were trimmed");
    }
    await this.handle(
      stream,
      claimed.map(([id, fields]) => [id, fields]),
      new Map(claimed.map(([id, , n]) => [id, n])),
    );
    return { seen: claimed.length + dead + trimmed, last };
  }

  /** Decodes entries, acknowledges those the group's filter skips, delivers the rest. */
  private async handle(stream: string, entries: [string, string[] | null][], counts?: Map<string, number>): Promise<void> {
    if (entries.length === 0) return;
    const { o } = this;
    const isRetry = stream === o.keys.retry;
    const skip: string[] = [];
    const deliveries: Delivery[] = [];
    for (const [id, fields] of entries) {
      const stored = fields ? fromStreamFields(id, fields) : "entry was deleted";
      if (typeof stored === "string") {
        counters.undecodableEntries++;
        o.log.warn({ stream, id, reason: stored }, "acknowledging group entry that is not a valid event");
        skip.push(id);
        continue;
      }
      if (isRetry) stored.id = replayedFrom(fields as string[]) ?? id;
      const event = new FeedEvent(stored, o.origin);
      if (!o.filter.matches(event)) {
        skip.push(id);
        continue;
      }
      deliveries.push({ deliveryId: isRetry ? `${RETRY_PREFIX}${id}` : id, event, deliveryCount: counts?.get(id) ?? 1 });
    }
    for (const ids of chunks(skip)) await o.redis.xack(stream, o.group, ...ids);
    if (deliveries.length === 0) return;
    const now = Date.now();
    if (!o.autoAck) for (const d of deliveries) this.inFlight.set(d.deliveryId, now);
    const flowing = o.deliver(deliveries);
    this.lastDelivered = (deliveries[deliveries.length - 1] as Delivery).event.cursor;
    countDelivered(o.origin.tenantId, deliveries.length);
    if (o.autoAck) {
      for (const d of deliveries) this.inFlight.set(d.deliveryId, now);
      await this.ack(deliveries.map((d) => d.deliveryId));
    }
    if (!flowing) await o.drained(o.signal);
  }

  /** A member that leaves holding nothing is removed from the group's member list. */
  private async leave(): Promise<void> {
    const { o } = this;
    try {
      const pending = (await o.redis.xpending(o.keys.events, o.group, "-", "+", 1, o.member)) as unknown[];
      const retryPending = (await o.redis.xpending(o.keys.retry, o.group, "-", "+", 1, o.member)) as unknown[];
      if (pending.length === 0 && retryPending.length === 0) {
        await o.redis.xgroup("DELCONSUMER", o.keys.events, o.group, o.member);
        await o.redis.xgroup("DELCONSUMER", o.keys.retry, o.group, o.member);
      }
    } catch (err) {
      o.log.debug({ err: (err as Error).message }, "could not tidy up group member");
    }
  }
}

/** Most ids one command gets: spreading more as arguments could overflow the stack. */
const CHUNK = 1000;

/** `ids` in runs of at most CHUNK. */
function chunks(ids: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < ids.length; i += CHUNK) out.push(ids.slice(i, i + CHUNK));
  return out;
}

function replayedFrom(fields: string[]): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === REPLAYED_FROM) return fields[i + 1];
  return undefined;
}
