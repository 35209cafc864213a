// A stream entry kept as the bytes Redis returned, for the fan-out's hot path:
// its kumiho.Event encoding is assembled by copying those bytes into place
// (routing key, kref, author, username, each detail's key and value), so an
// event read from Redis is never turned into JavaScript strings unless a
// filter needs its routing key or kref.
import { fieldSize, writeVarint } from "../../client-sdk/src/wire/protobuf.js";
import type { DetailSpans } from "../events/detailsScan.js";
import { copyInto, copyRange } from "./copyInto.js";

export class RawEvent {
  constructor(
    readonly id: string,
    readonly idBytes: Buffer,
    readonly routingKey: Buffer,
    readonly kref: Buffer,
    readonly author: Buffer | undefined,
    readonly username: Buffer | undefined,
    /** The details JSON, and the key/value spans found in it (none escaped). */
    readonly details: Buffer | undefined,
    readonly spans: DetailSpans,
  ) {}
}

function writeBytes(dst: Buffer, pos: number, tag: number, src: Buffer): number {
  dst[pos++] = tag;
  pos = writeVarint(dst, pos, src.length);
  return copyInto(dst, pos, src);
}

/** Encoded size of a map entry with key k and value v bytes (empty ones omitted, as proto3 does). */
const entrySize = (k: number, v: number) => (k > 0 ? fieldSize(k) : 0) + (v > 0 ? fieldSize(v) : 0);

/** Encoded size of a kumiho.Event from raw entry bytes (see {@link writeRawEvent}). */
export function rawEventSize(ev: RawEvent, timestamp: Buffer, tenant: Buffer, cursorSuffix: Buffer | undefined): number {
  const { routingKey: rk, kref, author, username, spans } = ev;
  let size = fieldSize(kref.length > 0 ? fieldSize(kref.length) : 0);
  if (rk.length) size += fieldSize(rk.length);
  if (timestamp.length) size += fieldSize(timestamp.length);
  if (author?.length) size += fieldSize(author.length);
  if (tenant.length) size += fieldSize(tenant.length);
  for (let i = 0; i < spans.length; i += 6) {
    size += fieldSize(entrySize((spans[i + 1] as number) - (spans[i] as number), (spans[i + 4] as number) - (spans[i + 3] as number)));
  }
  if (username?.length) size += fieldSize(username.length);
  if (cursorSuffix) size += fieldSize(ev.idBytes.length + cursorSuffix.length);
  return size;
}

/**
 * Writes a kumiho.Event from raw entry bytes at `pos` (which must have room
 * for {@link rawEventSize} bytes); returns the position after it. `timestamp`
 * and `tenant` are pre-encoded; the cursor is the entry ID's bytes followed by
 * `cursorSuffix` (".<epoch>"), or none without a suffix.
 */
export function writeRawEvent(
  buf: Buffer,
  pos: number,
  ev: RawEvent,
  timestamp: Buffer,
  tenant: Buffer,
  cursorSuffix: Buffer | undefined,
): number {
  const { routingKey: rk, kref, author, username, details, spans } = ev;
  if (rk.length) pos = writeBytes(buf, pos, 0x0a, rk);
  buf[pos++] = 0x12;
  pos = writeVarint(buf, pos, kref.length > 0 ? fieldSize(kref.length) : 0);
  if (kref.length) pos = writeBytes(buf, pos, 0x0a, kref);
  if (timestamp.length) pos = writeBytes(buf, pos, 0x1a, timestamp);
  if (author?.length) pos = writeBytes(buf, pos, 0x22, author);
  if (tenant.length) pos = writeBytes(buf, pos, 0x2a, tenant);
  if (details) {
    for (let i = 0; i < spans.length; i += 6) {
      const ks = spans[i] as number;
      const ke = spans[i + 1] as number;
      const vs = spans[i + 3] as number;
      const ve = spans[i + 4] as number;
      buf[pos++] = 0x32;
      pos = writeVarint(buf, pos, entrySize(ke - ks, ve - vs));
      if (ke > ks) {
        buf[pos++] = 0x0a;
        pos = writeVarint(buf, pos, ke - ks);
        pos = copyRange(buf, pos, details, ks, ke);
      }
      if (ve > vs) {
        buf[pos++] = 0x12;
        pos = writeVarint(buf, pos, ve - vs);
        pos = copyRange(buf, pos, details, vs, ve);
      }
    }
  }
  if (username?.length) pos = writeBytes(buf, pos, 0x3a, username);
  if (cursorSuffix) {
    buf[pos++] = 0x42;
    pos = writeVarint(buf, pos, ev.idBytes.length + cursorSuffix.length);
    pos = copyInto(buf, pos, ev.idBytes);
    pos = copyInto(buf, pos, cursorSuffix);
  }
  return pos;
}
