// Protobuf wire primitives for the hand-written codecs of the messages on the
// hot paths (events out, publishes in), which the generic proto-loader codec
// made the most expensive part of each side. Every field these messages use is
// a string, a nested message or a varint, so this is all they need. The server
// imports it too (server/events/), so both sides share one implementation.

/** Bytes a varint takes. */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n >>>= 7;
    size++;
  }
  return size;
}

/** Writes a varint at `pos`; returns the position after it. */
export function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
  return pos;
}

/** Size of a length-delimited field of `len` bytes with a one-byte tag. */
export function fieldSize(len: number): number {
  return 1 + varintSize(len) + len;
}

/** Writes a length-delimited string field (`len` = its UTF-8 byte length); returns the position after it. */
export function writeString(buf: Buffer, pos: number, tag: number, s: string, len: number): number {
  buf[pos++] = tag;
  pos = writeVarint(buf, pos, len);
  return pos + (buf as unknown as NativeUtf8).utf8Write(s, pos, len);
}

/** The last string a field decoded, and its bytes (see {@link Reader.cachedString}). */
export interface StringSlot {
  bytes: Uint8Array;
  value: string;
}

const MAX_CACHED_BYTES = 64;

/** A new, empty slot. */
export const stringSlot = (): StringSlot => ({ bytes: new Uint8Array(0), value: "" });

/** Reads protobuf fields from a slice of a buffer. Throws on truncated or malformed input. */
export class Reader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new Error("truncated varint");
      const b = this.buf[this.pos++] as number;
      // Bit operations are exact up to 28 bits; larger values (never lengths here) by multiplication.
      if (shift < 28) result |= (b & 0x7f) << shift;
      else result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
      if (shift > 63) throw new Error("varint too long");
    }
  }

  /** Reads a length prefix; returns [start, end) of the bytes it covers and moves past them. */
  span(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    const end = start + len;
    if (end > this.end) throw new Error("truncated length-delimited field");
    this.pos = end;
    return [start, end];
  }

  string(): string {
    const [s, e] = this.span();
    return (this.buf as unknown as NativeUtf8).utf8Slice(s, e);
  }

  /**
   * Like string(), but returns the slot's string when the bytes equal the slot's: fields that
   * repeat from event to event (routing key, timestamp, tenant, detail keys) skip UTF-8
   * decoding. Only short values are remembered, copied, so no frame buffer is kept alive.
   */
  cachedString(slot: StringSlot): string {
    const [s, e] = this.span();
    const len = e - s;
    const known = slot.bytes;
    if (known.length === len) {
      let i = 0;
      while (i < len && this.buf[s + i] === known[i]) i++;
      if (i === len) return slot.value;
    }
    const value = (this.buf as unknown as NativeUtf8).utf8Slice(s, e);
    if (len <= MAX_CACHED_BYTES) {
      slot.bytes = Uint8Array.prototype.slice.call(this.buf, s, e);
      slot.value = value;
    }
    return value;
  }

  /** Skips a field of this wire type (for fields a newer peer sends that this code does not know). */
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.span();
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wireType}`);
    if (this.pos > this.end) throw new Error("truncated field");
  }
}

/**
 * Buffer's native UTF-8 methods, which skip the argument checks of write() and
 * toString() (undocumented but long-standing; protobufjs relies on them too).
 */
interface NativeUtf8 {
  utf8Write(s: string, offset: number, length: number): number;
  utf8Slice(start: number, end: number): string;
}
