import type { Event__Output } from "./generated/kumiho/Event.js";
import { type Kref, parseKref } from "./kref.js";

/** One event from the stream. */
export interface Event {
  /** Event type, e.g. "revision.created". */
  routingKey: string;
  kref: Kref;
  /** ISO-8601 UTC time the server accepted the event. */
  timestamp: string;
  author: string;
  tenantId: string;
  username: string;
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
  author?: string;
  username?: string;
  details?: Record<string, string>;
}

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
