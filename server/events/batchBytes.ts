// The size of a PublishBatch request on the wire, computed from its events: the
// measure STREAMGATE_MAX_BATCH_BYTES limits, and the one `streamgate publish`
// sizes its batches with, so both sides agree to the byte.
//
// It is the protobuf encoding of streamgate.v1.PublishBatchRequest as this
// project's client writes it (grpc-js, protobufjs): every field is a string or
// a message, so each costs a one-byte tag, a varint length and its UTF-8 bytes,
// and the client sets every field, so empty strings are written too (encoders
// that omit them send a few bytes less: the measure is an upper bound for them);
// the idempotency key counts when the event has one (the client sends it only then).

/** The fields of an event that go on the wire (a server-side NewEvent or a client's event). */
export interface WireEvent {
  routingKey: string;
  kref: string;
  author?: string | undefined;
  username?: string | undefined;
  details?: Record<string, string> | undefined;
  idempotencyKey?: string | undefined;
}

function varintBytes(n: number): number {
  let bytes = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) bytes++;
  return bytes;
}

/** Tag, length and payload of a length-delimited field of `n` bytes. */
function delimited(n: number): number {
  return 1 + varintBytes(n) + n;
}

function stringField(s: string | undefined): number {
  return delimited(s ? Buffer.byteLength(s) : 0);
}

/** Bytes one event adds to a PublishBatchRequest (its PublishRequest with the `events` tag and length). */
export function batchEntryBytes(ev: WireEvent): number {
  let n =
    stringField(ev.routingKey) +
    delimited(stringField(ev.kref)) +
    stringField(ev.author) +
    stringField(ev.username) +
    (ev.idempotencyKey ? stringField(ev.idempotencyKey) : 0);
  for (const [k, v] of Object.entries(ev.details ?? {})) {
    n += delimited(delimited(Buffer.byteLength(k)) + delimited(Buffer.byteLength(v)));
  }
  return delimited(n);
}

/** Bytes of the whole PublishBatchRequest carrying `events`. */
export function batchBytes(events: readonly WireEvent[]): number {
  let n = 0;
  for (const ev of events) n += batchEntryBytes(ev);
  return n;
}
