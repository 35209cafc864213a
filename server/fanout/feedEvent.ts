import { encodeEvent } from "../events/encodeEvent.js";
import { KREF_SCHEME } from "../events/kref.js";
import type { StoredEvent } from "../events/storedEvent.js";
import type { Matchable } from "../filters/eventFilter.js";
import { idMillis } from "../redis/streamIds.js";

/**
 * One event as the fan-out sees it: decoded once, prepared for matching once,
 * and encoded at most once per variant (with and without cursor), then shared
 * by every subscriber it matches.
 */
export class FeedEvent implements Matchable {
  readonly id: string;
  readonly segments: readonly string[];
  readonly krefSegments: readonly string[];
  readonly krefQuery: string;
  private withCursor: Buffer | undefined;
  private withoutCursor: Buffer | undefined;

  constructor(
    readonly stored: StoredEvent,
    readonly tenantId: string,
  ) {
    this.id = stored.id;
    this.segments = stored.routingKey.split(".");
    const body = stored.kref.startsWith(KREF_SCHEME) ? stored.kref.slice(KREF_SCHEME.length) : stored.kref;
    const q = body.indexOf("?");
    this.krefSegments = (q < 0 ? body : body.slice(0, q)).split("/");
    this.krefQuery = q < 0 ? "" : body.slice(q + 1);
  }

  get timestamp(): string {
    return new Date(idMillis(this.id)).toISOString();
  }

  /** The encoded kumiho.Event; tiers without cursor support get it with an empty cursor. */
  bytes(includeCursor: boolean): Buffer {
    if (includeCursor) {
      this.withCursor ??= this.encode(this.id);
      return this.withCursor;
    }
    this.withoutCursor ??= this.encode("");
    return this.withoutCursor;
  }

  private encode(cursor: string): Buffer {
    const s = this.stored;
    return encodeEvent({
      routingKey: s.routingKey,
      kref: s.kref,
      timestamp: this.timestamp,
      author: s.author,
      tenantId: this.tenantId,
      details: s.details,
      username: s.username,
      cursor,
    });
  }
}
