// Hand-written protobuf decoders for streamgate.v1.PublishRequest and
// PublishBatchRequest: the publish path's hot spot was proto-loader's generic
// decode + toObject. They produce exactly what proto-loader produced (all
// fields present, "" and {} and null defaults), so handlers are unchanged.
// Field numbers follow proto/streamgate/v1/streamgate.proto; tests/decodePublish.test.ts
// checks them against messages encoded by the generated descriptor.
import { Reader } from "../../client-sdk/src/wire/protobuf.js";

/** A decoded PublishRequest (the shape proto-loader's `defaults: true` gives). */
export interface DecodedPublish {
  routingKey: string;
  kref: { uri: string } | null;
  author: string;
  details: Record<string, string>;
  username: string;
  idempotencyKey: string;
}

/** Reads one message's fields from `r` until `end`, calling `field(number, wireType)` for each. */
function fields(r: Reader, end: number, field: (no: number, wt: number) => boolean): void {
  while (r.pos < end) {
    const tag = r.varint();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (!field(no, wt)) r.skip(wt);
  }
}

function decodeKref(buf: Buffer, start: number, end: number): { uri: string } {
  const r = new Reader(buf, start, end);
  let uri = "";
  fields(r, end, (no, wt) => {
    if (no === 1 && wt === 2) uri = r.string();
    else return false;
    return true;
  });
  return { uri };
}

function decodeEntry(buf: Buffer, start: number, end: number, into: Record<string, string>): void {
  const r = new Reader(buf, start, end);
  let key = "";
  let value = "";
  fields(r, end, (no, wt) => {
    if (no === 1 && wt === 2) key = r.string();
    else if (no === 2 && wt === 2) value = r.string();
    else return false;
    return true;
  });
  into[key] = value;
}

function decodeRequest(buf: Buffer, start: number, end: number): DecodedPublish {
  const r = new Reader(buf, start, end);
  const out: DecodedPublish = { routingKey: "", kref: null, author: "", details: {}, username: "", idempotencyKey: "" };
  fields(r, end, (no, wt) => {
    if (wt !== 2) return false;
    if (no === 1) out.routingKey = r.string();
    else if (no === 2) {
      const [s, e] = r.span();
      out.kref = decodeKref(buf, s, e);
    } else if (no === 3) out.author = r.string();
    else if (no === 4) {
      const [s, e] = r.span();
      decodeEntry(buf, s, e, out.details);
    } else if (no === 5) out.username = r.string();
    else if (no === 6) out.idempotencyKey = r.string();
    else return false;
    return true;
  });
  return out;
}

/** Decodes a streamgate.v1.PublishRequest; throws on malformed input (grpc-js answers INTERNAL). */
export function decodePublishRequest(buf: Buffer): DecodedPublish {
  return decodeRequest(buf, 0, buf.length);
}

/** Decodes a streamgate.v1.PublishBatchRequest (`repeated PublishRequest events = 1`). */
export function decodePublishBatchRequest(buf: Buffer): { events: DecodedPublish[] } {
  const r = new Reader(buf, 0, buf.length);
  const events: DecodedPublish[] = [];
  fields(r, buf.length, (no, wt) => {
    if (no !== 1 || wt !== 2) return false;
    const [s, e] = r.span();
    events.push(decodeRequest(buf, s, e));
    return true;
  });
  return { events };
}
