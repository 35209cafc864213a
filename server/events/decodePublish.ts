// Hand-written protobuf decoders for streamgate.v1.PublishRequest and
// PublishBatchRequest: the publish path's hot spot was proto-loader's generic
// decode + toObject. They produce exactly what proto-loader produced (all
// fields present, "" and {} and null defaults), so handlers are unchanged.
// Field numbers follow proto/streamgate/v1/streamgate.proto; tests/decodePublish.test.ts
// checks them against messages encoded by the generated descriptor.
import { setEntry } from "../../client-sdk/src/wire/codecs.js";
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

/**
 * Reads one message's fields from `r` until `end`, calling `field(number, wireType)` for each;
 * `field` returns false for a field it does not know, which is skipped.
 */
function fields(r: Reader, end: number, field: (no: number, wt: number) => boolean): void {
  while (r.pos < end) {
    const tag = r.varint();
    // A tag is a uint32 (`tag >>> 3` would wrap a larger one onto a real field), and field 0 does not exist.
    if (tag > 0xffffffff || tag < 8) throw new Error(`invalid field tag ${tag}`);
    const no = tag >>> 3;
    const wt = tag & 7;
    if (!field(no, wt)) r.skip(wt);
  }
}

/**
 * Every field these messages know is length-delimited (strings and messages). Another wire type
 * is an error rather than an unknown field: protobufjs, which decodes the other methods' requests,
 * would misread it, and all methods refuse the same bodies (rpc/wireFormatProblem.ts).
 */
function expectLength(wt: number): void {
  if (wt !== 2) throw new Error(`wire type ${wt} where a length-delimited field belongs`);
}

function decodeKref(buf: Buffer, start: number, end: number): { uri: string } {
  const r = new Reader(buf, start, end);
  let uri = "";
  fields(r, end, (no, wt) => {
    if (no !== 1) return false;
    expectLength(wt);
    uri = r.string();
    return true;
  });
  return { uri };
}

function decodeEntry(buf: Buffer, start: number, end: number, into: Record<string, string>): void {
  const r = new Reader(buf, start, end);
  let key = "";
  let value = "";
  fields(r, end, (no, wt) => {
    if (no !== 1 && no !== 2) return false;
    expectLength(wt);
    if (no === 1) key = r.string();
    else value = r.string();
    return true;
  });
  setEntry(into, key, value); // "__proto__" included: a plain assignment would drop it, and its size limits with it
}

function decodeRequest(buf: Buffer, start: number, end: number): DecodedPublish {
  const r = new Reader(buf, start, end);
  const out: DecodedPublish = { routingKey: "", kref: null, author: "", details: {}, username: "", idempotencyKey: "" };
  fields(r, end, (no, wt) => {
    if (no < 1 || no > 6) return false;
    expectLength(wt);
    if (no === 1) out.routingKey = r.string();
    else if (no === 2) {
      const [s, e] = r.span();
      out.kref = decodeKref(buf, s, e);
    } else if (no === 3) out.author = r.string();
    else if (no === 4) {
      const [s, e] = r.span();
      decodeEntry(buf, s, e, out.details);
    } else if (no === 5) out.username = r.string();
    else out.idempotencyKey = r.string();
    return true;
  });
  return out;
}

/**
 * Decodes a streamgate.v1.PublishRequest. Throws on malformed input (a length prefix past the end,
 * a truncated varint, an invalid tag or wire type); the service definition
 * (rpc/safeRequestDecoders.ts) answers that with INVALID_ARGUMENT, naming the field.
 */
export function decodePublishRequest(buf: Buffer): DecodedPublish {
  return decodeRequest(buf, 0, buf.length);
}

/** Decodes a streamgate.v1.PublishBatchRequest (`repeated PublishRequest events = 1`); throws like {@link decodePublishRequest}. */
export function decodePublishBatchRequest(buf: Buffer): { events: DecodedPublish[] } {
  const r = new Reader(buf, 0, buf.length);
  const events: DecodedPublish[] = [];
  fields(r, buf.length, (no, wt) => {
    if (no !== 1) return false;
    expectLength(wt);
    const [s, e] = r.span();
    events.push(decodeRequest(buf, s, e));
    return true;
  });
  return { events };
}
