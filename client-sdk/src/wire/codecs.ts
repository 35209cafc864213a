// Hand-written codecs for the client's hot messages: kumiho.Event and
// streamgate.v1.EventBatch in (every delivered event), PublishRequest and
// PublishBatchRequest out. They produce and take exactly the objects the
// generated proto-loader codec does (all fields present; "", {} and null
// defaults), so the rest of the client is unchanged. tests/sdk/codecs.test.ts
// checks them against the generated descriptor.
import type { Event__Output } from "../generated/kumiho/Event.js";
import type { EventBatch__Output } from "../generated/streamgate/v1/EventBatch.js";
import { fieldSize, Reader, stringSlot, writeString, writeVarint } from "./protobuf.js";

// Fields whose values mostly repeat from one event to the next (see Reader.cachedString).
const slots = { routingKey: stringSlot(), timestamp: stringSlot(), author: stringSlot(), tenant: stringSlot(), username: stringSlot() };
/** Detail keys by their position in the map: events of one producer carry the same keys in the same order. */
const keySlots = Array.from({ length: 8 }, stringSlot);

/** Reads a map<string,string> entry (1: key, 2: value) into `into`. */
function readEntry(buf: Buffer, start: number, end: number, into: Record<string, string>, index: number): void {
  const r = new Reader(buf, start, end);
  let key = "";
  let value = "";
  const slot = keySlots[index];
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 0x0a) key = slot ? r.cachedString(slot) : r.string();
    else if (tag === 0x12) value = r.string();
    else r.skip(tag & 7);
  }
  setEntry(into, key, value);
}

/**
 * `into[key] = value`, for every key: a plain assignment to "__proto__" would change the object's
 * prototype (or do nothing) instead of adding the entry.
 */
export function setEntry(into: Record<string, string>, key: string, value: string): void {
  if (key === "__proto__") Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true });
  else into[key] = value;
}

/** Reads a kumiho.Kref (1: uri). */
function readKref(buf: Buffer, start: number, end: number): { uri: string } {
  const r = new Reader(buf, start, end);
  let uri = "";
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 0x0a) uri = r.string();
    else r.skip(tag & 7);
  }
  return { uri };
}

/** Decodes a kumiho.Event from buf[start, end). */
export function decodeEventAt(buf: Buffer, start: number, end: number): Event__Output {
  const r = new Reader(buf, start, end);
  const ev: Event__Output = { routingKey: "", kref: null, timestamp: "", author: "", tenantId: "", details: {}, username: "", cursor: "" };
  let entries = 0;
  while (r.pos < end) {
    const tag = r.varint();
    switch (tag) {
      case 0x0a:
        ev.routingKey = r.cachedString(slots.routingKey);
        break;
      case 0x12: {
        const [s, e] = r.span();
        ev.kref = readKref(buf, s, e);
        break;
      }
      case 0x1a:
        ev.timestamp = r.cachedString(slots.timestamp);
        break;
      case 0x22:
        ev.author = r.cachedString(slots.author);
        break;
      case 0x2a:
        ev.tenantId = r.cachedString(slots.tenant);
        break;
      case 0x32: {
        const [s, e] = r.span();
        readEntry(buf, s, e, ev.details, entries++);
        break;
      }
      case 0x3a:
        ev.username = r.cachedString(slots.username);
        break;
      case 0x42:
        ev.cursor = r.string();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return ev;
}

/** Decodes one kumiho.Event message (kumiho.KumihoService/EventStream). */
export function decodeEvent(buf: Buffer): Event__Output {
  return decodeEventAt(buf, 0, buf.length);
}

/** Decodes a streamgate.v1.EventBatch (`repeated kumiho.Event events = 1`). */
export function decodeEventBatch(buf: Buffer): EventBatch__Output {
  const r = new Reader(buf, 0, buf.length);
  const events: Event__Output[] = [];
  while (r.pos < buf.length) {
    const tag = r.varint();
    if (tag !== 0x0a) {
      r.skip(tag & 7);
      continue;
    }
    const [s, e] = r.span();
    events.push(decodeEventAt(buf, s, e));
  }
  return { events };
}

/** A PublishRequest as the client builds it (the generated type's fields). */
export interface PublishRequestFields {
  routingKey?: string;
  kref?: { uri?: string } | null;
  author?: string;
  username?: string;
  details?: Record<string, string>;
  idempotencyKey?: string;
}

/** Encoded size of one PublishRequest's fields; appends the UTF-8 length of each string, in writing order, to `lens`. */
function measure(req: PublishRequestFields, lens: number[]): number {
  const push = (s: string | undefined) => {
    const n = s ? Buffer.byteLength(s) : 0;
    lens.push(n);
    return n;
  };
  let size = 0;
  const rk = push(req.routingKey);
  if (rk) size += fieldSize(rk);
  if (req.kref) {
    const uri = push(req.kref.uri);
    size += fieldSize(uri ? fieldSize(uri) : 0);
  }
  const author = push(req.author);
  if (author) size += fieldSize(author);
  for (const key in req.details) {
    const k = push(key);
    const v = push(req.details[key]);
    size += fieldSize((k ? fieldSize(k) : 0) + (v ? fieldSize(v) : 0));
  }
  const user = push(req.username);
  if (user) size += fieldSize(user);
  const key = push(req.idempotencyKey);
  if (key) size += fieldSize(key);
  return size;
}

/** Writes one PublishRequest's fields (in field order, empty strings omitted as proto3 does) from the measured lengths. */
function write(buf: Buffer, pos: number, req: PublishRequestFields, lens: number[], at: { i: number }): number {
  const next = () => lens[at.i++] as number;
  const rk = next();
  if (rk) pos = writeString(buf, pos, 0x0a, req.routingKey as string, rk);
  if (req.kref) {
    const uri = next();
    buf[pos++] = 0x12;
    pos = writeVarint(buf, pos, uri ? fieldSize(uri) : 0);
    if (uri) pos = writeString(buf, pos, 0x0a, req.kref.uri as string, uri);
  }
  const author = next();
  if (author) pos = writeString(buf, pos, 0x1a, req.author as string, author);
  for (const key in req.details) {
    const k = next();
    const v = next();
    buf[pos++] = 0x22;
    pos = writeVarint(buf, pos, (k ? fieldSize(k) : 0) + (v ? fieldSize(v) : 0));
    if (k) pos = writeString(buf, pos, 0x0a, key, k);
    if (v) pos = writeString(buf, pos, 0x12, req.details[key] as string, v);
  }
  const user = next();
  if (user) pos = writeString(buf, pos, 0x2a, req.username as string, user);
  const key = next();
  if (key) pos = writeString(buf, pos, 0x32, req.idempotencyKey as string, key);
  return pos;
}

/** Encodes a streamgate.v1.PublishRequest. */
export function encodePublishRequest(req: PublishRequestFields): Buffer {
  const lens: number[] = [];
  const buf = Buffer.allocUnsafe(measure(req, lens));
  write(buf, 0, req, lens, { i: 0 });
  return buf;
}

/** Encodes a streamgate.v1.PublishBatchRequest (`repeated PublishRequest events = 1`). */
export function encodePublishBatchRequest(batch: { events?: readonly PublishRequestFields[] }): Buffer {
  const events = batch.events ?? [];
  const lens: number[] = [];
  const sizes = events.map((ev) => measure(ev, lens));
  let total = 0;
  for (const s of sizes) total += fieldSize(s);
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  const at = { i: 0 };
  events.forEach((ev, i) => {
    buf[pos++] = 0x0a;
    pos = writeVarint(buf, pos, sizes[i] as number);
    pos = write(buf, pos, ev, lens, at);
  });
  return buf;
}
