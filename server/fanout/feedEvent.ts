import { encodeEvent } from "../events/encodeEvent.js";
import { KREF_SCHEME } from "../events/kref.js";
import type { StoredEvent } from "../events/storedEvent.js";
import type { Matchable } from "../filters/eventFilter.js";

/** ISO time of a stream ID's millisecond part; consecutive events mostly share one, so the last is kept. */
let lastMs = "";
let lastIso = "";
function isoTime(id: string): string {
  const ms = id.slice(0, id.indexOf("-"));
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(Number(ms)).toISOString();
  }
  return lastIso;
}

/**
 * One event as the fan-out sees it: decoded once, prepared for matching once
 * (lazily: match-all subscribers never need the split keys), and encoded at
 * most once per variant (with and without cursor), then shared by every
 * subscriber it is offered to.
 */
export class FeedEvent implements Matchable {
  readonly id: string;
  private split: readonly string[] | undefined;
  private path: readonly string[] | undefined;
  private query: string | undefined;
  private withCursor: Buffer | undefined;
  private withoutCursor: Buffer | undefined;

  constructor(
    readonly stored: StoredEvent,
    readonly tenantId: string,
  ) {
    this.id = stored.id;
  }

  get segments(): readonly string[] {
    this.split ??= this.stored.routingKey.split(".");
    return this.split;
  }

  get krefSegments(): readonly string[] {
    if (this.path === undefined) this.parseKref();
    return this.path as readonly string[];
  }

  get krefQuery(): string {
    if (this.query === undefined) this.parseKref();
    return this.query as string;
  }

  get timestamp(): string {
    return isoTime(this.id);
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

  private parseKref(): void {
    const kref = this.stored.kref;
    const body = kref.startsWith(KREF_SCHEME) ? kref.slice(KREF_SCHEME.length) : kref;
    const q = body.indexOf("?");
    this.path = (q < 0 ? body : body.slice(0, q)).split("/");
    this.query = q < 0 ? "" : body.slice(q + 1);
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
