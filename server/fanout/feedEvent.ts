import { formatCursor } from "../cursors/cursor.js";
import { encodeEvent } from "../events/encodeEvent.js";
import { KREF_SCHEME } from "../events/kref.js";
import type { StoredEvent } from "../events/storedEvent.js";
import type { Matchable } from "../filters/eventFilter.js";
import { copyInto, copyRange } from "./copyInto.js";
import { RawEvent, rawEventSize, writeRawEvent } from "./rawEvent.js";

/** ISO time of a stream ID's millisecond part; consecutive events mostly share one, so the last is kept. */
let lastMs = "";
let lastIso = "";
let lastIsoBytes = Buffer.alloc(0);
function isoTime(id: string): string {
  // Same millisecond as the last one (the common case) without slicing the ID.
  if (lastMs !== "" && id.charCodeAt(lastMs.length) === 45 && id.startsWith(lastMs)) return lastIso;
  lastMs = id.slice(0, id.indexOf("-"));
  lastIso = new Date(Number(lastMs)).toISOString();
  lastIsoBytes = Buffer.from(lastIso, "latin1");
  return lastIso;
}

function isoTimeBytes(id: string): Buffer {
  isoTime(id);
  return lastIsoBytes;
}

/**
 * Where events come from: a tenant's stream in one epoch. Shared by every event read from that
 * stream while its epoch holds, with the bytes each encoding needs (the tenant id, and the
 * ".<epoch>" that turns a stream ID into a cursor) made once.
 */
export class StreamOrigin {
  readonly tenantBytes: Buffer;
  /** ".<epoch>": a cursor is the entry's ID followed by these bytes (cursors/cursor.ts). */
  readonly cursorSuffix: Buffer;

  constructor(
    readonly tenantId: string,
    readonly epoch: string,
  ) {
    this.tenantBytes = Buffer.from(tenantId, "utf8");
    this.cursorSuffix = Buffer.from(`.${epoch}`, "latin1");
  }

  /** The cursor of stream ID `id` in this epoch. */
  cursor(id: string): string {
    return formatCursor(id, this.epoch);
  }
}

/**
 * One event as the fan-out sees it: decoded once, prepared for matching once
 * (lazily: match-all subscribers never need the split keys), and encoded at
 * most once per variant (with and without cursor), then shared by every
 * subscriber it is offered to. Events read by the shared reader and catch-up
 * stay as the bytes Redis returned (RawEvent) and are encoded by copying them;
 * consumer groups build them from decoded fields (StoredEvent).
 */
export class FeedEvent implements Matchable {
  readonly id: string;
  private split: readonly string[] | undefined;
  private path: readonly string[] | undefined;
  private query: string | undefined;
  // Each encoding is kept as a range of the buffer it was first written into (often a frame),
  // rather than a view: no Buffer object per event unless someone asks for the bytes alone.
  private withCursor: Encoded | undefined;
  private withoutCursor: Encoded | undefined;

  constructor(
    readonly source: StoredEvent | RawEvent,
    readonly origin: StreamOrigin,
  ) {
    this.id = source.id;
  }

  get tenantId(): string {
    return this.origin.tenantId;
  }

  private bytesHeld = -1;

  /** About how many bytes the event's fields take (what a queue of events is bounded by). */
  get approxBytes(): number {
    if (this.bytesHeld < 0) {
      const s = this.source;
      this.bytesHeld =
        s instanceof RawEvent
          ? s.idBytes.length +
            s.routingKey.length +
            s.kref.length +
            (s.author?.length ?? 0) +
            (s.username?.length ?? 0) +
            (s.details?.length ?? 0)
          : storedBytes(s);
    }
    return this.bytesHeld;
  }

  /** The event's cursor (its ID in its stream's epoch). */
  get cursor(): string {
    return this.origin.cursor(this.id);
  }

  get routingKey(): string {
    const s = this.source;
    return s instanceof RawEvent ? s.routingKey.toString("utf8") : s.routingKey;
  }

  get kref(): string {
    const s = this.source;
    return s instanceof RawEvent ? s.kref.toString("utf8") : s.kref;
  }

  get segments(): readonly string[] {
    this.split ??= this.routingKey.split(".");
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
    const cached = includeCursor ? this.withCursor : this.withoutCursor;
    if (cached) return cached.buf.subarray(cached.start, cached.end);
    if (!(this.source instanceof RawEvent)) return this.bytesFromFields(includeCursor);
    const b = Buffer.allocUnsafe(this.encodedSize(includeCursor));
    this.writeTo(b, 0, includeCursor);
    return b;
  }

  /** Size of {@link bytes} without building them (a frame is sized first, then written in one go). */
  encodedSize(includeCursor: boolean): number {
    const cached = includeCursor ? this.withCursor : this.withoutCursor;
    if (cached) return cached.end - cached.start;
    const s = this.source;
    if (s instanceof RawEvent)
      return rawEventSize(s, this.timeBytes(), this.origin.tenantBytes, includeCursor ? this.origin.cursorSuffix : undefined);
    return this.bytesFromFields(includeCursor).length;
  }

  /**
   * Writes the encoding into `buf` at `pos` and returns the position after it. The first
   * write encodes straight into the buffer (a frame) and remembers where, so an event sent
   * in one frame is encoded once and copied never; later writes copy that range.
   */
  writeTo(buf: Buffer, pos: number, includeCursor: boolean): number {
    const cached = includeCursor ? this.withCursor : this.withoutCursor;
    if (cached) return copyRange(buf, pos, cached.buf, cached.start, cached.end);
    const s = this.source;
    if (!(s instanceof RawEvent)) return copyInto(buf, pos, this.bytesFromFields(includeCursor));
    const end = writeRawEvent(buf, pos, s, this.timeBytes(), this.origin.tenantBytes, includeCursor ? this.origin.cursorSuffix : undefined);
    const encoded = { buf, start: pos, end };
    if (includeCursor) this.withCursor = encoded;
    else this.withoutCursor = encoded;
    return end;
  }

  // Sizing and writing both need it: looked up once per event.
  private ts: Buffer | undefined;

  private timeBytes(): Buffer {
    this.ts ??= isoTimeBytes(this.id);
    return this.ts;
  }

  private parseKref(): void {
    const kref = this.kref;
    const body = kref.startsWith(KREF_SCHEME) ? kref.slice(KREF_SCHEME.length) : kref;
    const q = body.indexOf("?");
    this.path = (q < 0 ? body : body.slice(0, q)).split("/");
    this.query = q < 0 ? "" : body.slice(q + 1);
  }

  /** Encodes an event built from decoded fields (consumer groups, entries with escaped details). */
  private bytesFromFields(includeCursor: boolean): Buffer {
    const cached = includeCursor ? this.withCursor : this.withoutCursor;
    if (cached) return cached.buf.subarray(cached.start, cached.end);
    const s = this.source as StoredEvent;
    const buf = encodeEvent({
      routingKey: s.routingKey,
      kref: s.kref,
      timestamp: this.timestamp,
      author: s.author,
      tenantId: this.tenantId,
      details: s.details,
      username: s.username,
      cursor: includeCursor ? this.cursor : "",
    });
    const encoded = { buf, start: 0, end: buf.length };
    if (includeCursor) this.withCursor = encoded;
    else this.withoutCursor = encoded;
    return buf;
  }
}

/** UTF-16 lengths of a decoded event's strings: close enough to its UTF-8 size for a bound. */
function storedBytes(s: StoredEvent): number {
  let n = s.id.length + s.routingKey.length + s.kref.length + s.author.length + s.username.length;
  for (const k in s.details) n += k.length + (s.details[k] as string).length;
  return n;
}

/** Where an event's encoding lives. */
interface Encoded {
  buf: Buffer;
  start: number;
  end: number;
}
