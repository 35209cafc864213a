import type { Event__Output } from "./generated/kumiho/Event.js";
import { type Kref, parseKref } from "./kref.js";

/** One event from the stream. */
export interface Event {
  /** Event type, e.g. "revision.created". */
  routingKey: string;
  /** The item the event is about: its URI and parsed parts. */
  kref: Kref;
  /** ISO-8601 UTC time the server accepted the event. */
  timestamp: string;
  /** Who or what published the event ("" when not given). */
  author: string;
  /** The tenant whose stream holds the event (stamped by the server). */
  tenantId: string;
  /** The end user on whose behalf the event was published ("" when not given). */
  username: string;
  /** Free-form string pairs; see {@link DetailKeys} for the correlation keys. */
  details: Record<string, string>;
  /** Opaque resume point: pass it as `cursor` to continue after this event ("" on tiers without cursors). */
  cursor: string;
}

/** What `publish` sends. */
export interface NewEvent {
  /** Dot-separated segments of [a-z0-9_-], e.g. "revision.created". */
  routingKey: string;
  /** e.g. "kref://film/shots/sh010.model?r=3". */
  kref: string;
  /** Who or what publishes the event. */
  author?: string;
  /** The end user on whose behalf it is published. */
  username?: string;
  /** Free-form string pairs (the server caps their number and size). */
  details?: Record<string, string>;
  /**
   * The event that caused this one (typically the one your handler is processing):
   * sets `details.causation_id` to its cursor and carries its correlation id over.
   */
  causedBy?: Pick<Event, "cursor" | "details">;
  /** Sets `details.correlation_id`, over one inherited from {@link NewEvent.causedBy}. */
  correlationId?: string;
  /**
   * Makes publishing this event safe to repeat: the server stores it once per key within its
   * duplicate window (default 2 minutes), and a repeat gets the first one's cursor. The client
   * gives every event without one a key of its own (a producer id and a sequence number, see
   * `autoIdempotencyKeys`), which its own retries reuse; set your own (at most 256 bytes, e.g. an
   * order id or a source event's cursor) to make retries across processes or restarts safe.
   */
  idempotencyKey?: string;
}

/** Converts an event as decoded from the wire. */
export function fromWire(e: Event__Output): Event {
  return {
    routingKey: e.routingKey,
    kref: parseKref(e.kref?.uri ?? ""),
    timestamp: e.timestamp,
    author: e.author,
    tenantId: e.tenantId,
    username: e.username,
    details: e.details ?? {},
    cursor: e.cursor,
  };
}
