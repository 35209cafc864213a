// Hand-written protobuf encoder for kumiho.Event, so each event is encoded once
// and the same bytes are written to every subscriber. Field numbers follow
// proto/kumiho/kumiho.proto; tests/encodeEvent.test.ts decodes the output with
// the generated descriptor to keep the two in step. The wire primitives are the
// client's (client-sdk/src/wire/protobuf.ts), shared by both sides.
import { fieldSize, varintSize, writeString, writeVarint } from "../../client-sdk/src/wire/protobuf.js";

export interface EventFields {
  routingKey: string;
  kref: string;
  timestamp: string;
  author: string;
  tenantId: string;
  details: Record<string, string>;
  username: string;
  cursor: string;
}

/** Encodes a kumiho.Event; empty strings are omitted as proto3 does. */
export function encodeEvent(ev: EventFields): Buffer {
  const rk = Buffer.byteLength(ev.routingKey);
  const kref = Buffer.byteLength(ev.kref);
  const krefMsg = kref > 0 ? fieldSize(kref) : 0;
  const ts = Buffer.byteLength(ev.timestamp);
  const author = Buffer.byteLength(ev.author);
  const tenant = Buffer.byteLength(ev.tenantId);
  const user = Buffer.byteLength(ev.username);
  const cursor = Buffer.byteLength(ev.cursor);
  const entries: [string, number, string, number, number][] = [];
  let size = 0;
  for (const key in ev.details) {
    const value = ev.details[key] as string;
    const kl = Buffer.byteLength(key);
    const vl = Buffer.byteLength(value);
    const inner = (kl > 0 ? fieldSize(kl) : 0) + (vl > 0 ? fieldSize(vl) : 0);
    entries.push([key, kl, value, vl, inner]);
    size += fieldSize(inner);
  }
  if (rk) size += fieldSize(rk);
  size += fieldSize(krefMsg); // Kref is always present
  if (ts) size += fieldSize(ts);
  if (author) size += fieldSize(author);
  if (tenant) size += fieldSize(tenant);
  if (user) size += fieldSize(user);
  if (cursor) size += fieldSize(cursor);

  const buf = Buffer.allocUnsafe(size);
  let pos = 0;
  if (rk) pos = writeString(buf, pos, 0x0a, ev.routingKey, rk);
  buf[pos++] = 0x12;
  pos = writeVarint(buf, pos, krefMsg);
  if (kref) pos = writeString(buf, pos, 0x0a, ev.kref, kref);
  if (ts) pos = writeString(buf, pos, 0x1a, ev.timestamp, ts);
  if (author) pos = writeString(buf, pos, 0x22, ev.author, author);
  if (tenant) pos = writeString(buf, pos, 0x2a, ev.tenantId, tenant);
  for (const [key, kl, value, vl, inner] of entries) {
    buf[pos++] = 0x32;
    pos = writeVarint(buf, pos, inner);
    if (kl) pos = writeString(buf, pos, 0x0a, key, kl);
    if (vl) pos = writeString(buf, pos, 0x12, value, vl);
  }
  if (user) pos = writeString(buf, pos, 0x3a, ev.username, user);
  if (cursor) pos = writeString(buf, pos, 0x42, ev.cursor, cursor);
  return buf;
}

/**
 * Frames already-encoded events as a streamgate.v1.EventBatch
 * (`repeated kumiho.Event events = 1`): tag, length, bytes per event.
 */
export function encodeEventBatch(events: readonly Buffer[]): Buffer {
  let size = 0;
  for (const e of events) size += fieldSize(e.length);
  const buf = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const e of events) {
    buf[pos++] = 0x0a;
    pos = writeVarint(buf, pos, e.length);
    pos += e.copy(buf, pos);
  }
  return buf;
}

/** One consumer-group delivery, with its already-encoded kumiho.Event. */
export interface EncodedDelivery {
  deliveryId: string;
  event: Buffer;
  deliveryCount: number;
}

/**
 * Encodes streamgate.v1.ConsumeResponse{deliveries: DeliveryBatch{deliveries: [...]}}
 * around pre-encoded events (Delivery: 1 delivery_id, 2 event, 3 delivery_count).
 */
export function encodeDeliveryResponse(items: readonly EncodedDelivery[]): Buffer {
  const sizes = items.map((d) => {
    const idLen = Buffer.byteLength(d.deliveryId);
    return idLen === 0 ? 0 : fieldSize(idLen);
  });
  let batch = 0;
  const inner = items.map((d, i) => {
    const size = (sizes[i] as number) + fieldSize(d.event.length) + 1 + varintSize(d.deliveryCount);
    batch += fieldSize(size);
    return size;
  });
  const buf = Buffer.allocUnsafe(fieldSize(batch));
  let pos = 0;
  buf[pos++] = 0x12; // ConsumeResponse.deliveries
  pos = writeVarint(buf, pos, batch);
  items.forEach((d, i) => {
    buf[pos++] = 0x0a; // DeliveryBatch.deliveries
    pos = writeVarint(buf, pos, inner[i] as number);
    if (sizes[i]) pos = writeString(buf, pos, 0x0a, d.deliveryId, Buffer.byteLength(d.deliveryId));
    buf[pos++] = 0x12;
    pos = writeVarint(buf, pos, d.event.length);
    pos += d.event.copy(buf, pos);
    buf[pos++] = 0x18;
    pos = writeVarint(buf, pos, d.deliveryCount);
  });
  return buf;
}
