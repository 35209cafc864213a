// A strict walk over a request's protobuf bytes, run before proto-loader's
// decoder (protobufjs) sees them. protobufjs 7 is lenient in ways that turn
// garbage into plausible values instead of an error:
// - BufferReader.string() clamps a length prefix to the bytes present, so a
//   string declared as 2^31 bytes with "abc" following reads as "abc" (fixed
//   upstream in protobuf.js PR #2205, not in the 7.x we get through proto-loader);
// - nested messages and strings inside them may run past their parent's end;
// - a known field is read by its declared type whatever its wire type, so a
//   varint where a string belongs is taken as the string's length;
// - tags and lengths are read as 32-bit varints: bytes past the fifth are skipped
//   unread, and higher bits dropped.
// The walk refuses all of these, naming the field, so what protobufjs then
// decodes is exactly what the bytes say.
import { Reader } from "../../client-sdk/src/wire/protobuf.js";
import { messageType, type ProtoField, type ProtoMessage } from "./protoTypes.js";

/** Wire types (https://protobuf.dev/programming-guides/encoding/#structure). */
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

const VARINT_32 = new Set(["int32", "uint32", "sint32", "bool", "enum"]);
const VARINT_64 = new Set(["int64", "uint64", "sint64"]);
const FIXED_32 = new Set(["fixed32", "sfixed32", "float"]);
const FIXED_64 = new Set(["fixed64", "sfixed64", "double"]);

/** A problem found at a known place; the message already names the field. */
class WireProblem extends Error {
  override name = "WireProblem";
}

/**
 * Why `buf` is not a well-formed `typeName` ("kumiho.EventStreamRequest"), e.g. "field join.group:
 * length 2147483648 runs past the end of its message (3 bytes left)"; undefined when it is one.
 * Unknown fields are allowed (a newer client), as long as they are well-formed themselves.
 */
export function wireFormatProblem(buf: Buffer, typeName: string): string | undefined {
  try {
    walk(new Reader(buf, 0, buf.length), messageType(typeName), "");
    return undefined;
  } catch (err) {
    if (err instanceof WireProblem) return err.message;
    throw err;
  }
}

function walk(r: Reader, type: ProtoMessage, path: string): void {
  // Messages are built only on failure: acks on a busy Consume stream pass through here.
  const place = (at: number) => `at byte ${at}${path ? ` (inside ${path})` : ""}`;
  while (r.pos < r.end) {
    const at = r.pos;
    let tag: number;
    try {
      tag = shortVarint(r, "field tag");
    } catch (err) {
      throw new WireProblem(`${place(at)}: ${(err as Error).message}`);
    }
    const no = tag >>> 3;
    const wireType = tag & 7;
    if (no === 0) throw new WireProblem(`${place(at)}: field number 0 (tag ${tag}) is not a valid field`);
    const field = type.fields.get(no);
    const where = () => `${path}${path ? "." : ""}${field ? field.name : String(no)}`;
    try {
      if (field) known(r, field, wireType, where);
      else skipUnknown(r, wireType);
    } catch (err) {
      if (err instanceof WireProblem) throw err;
      throw new WireProblem(`field ${where()}: ${(err as Error).message}`);
    }
  }
}

function known(r: Reader, field: ProtoField, wireType: number, where: () => string): void {
  const { kind } = field;
  if (kind === "message" || kind === "string" || kind === "bytes") {
    expectWireType(wireType, LEN, kind);
    const [start, end] = span(r);
    if (kind === "message") walk(new Reader(r.buf, start, end), messageType(field.type as string), where());
    return;
  }
  const expected = VARINT_32.has(kind) || VARINT_64.has(kind) ? VARINT : FIXED_32.has(kind) ? I32 : FIXED_64.has(kind) ? I64 : -1;
  if (expected === -1) throw new Error(`has a type this server cannot check (${kind})`);
  if (wireType === LEN && field.repeated) {
    // A packed repeated scalar: the span holds whole values only.
    const [start, end] = span(r);
    const inner = new Reader(r.buf, start, end);
    while (inner.pos < end) scalar(inner, kind, expected);
    return;
  }
  expectWireType(wireType, expected, kind);
  scalar(r, kind, expected);
}

function scalar(r: Reader, kind: string, wireType: number): void {
  if (wireType === VARINT) {
    const at = r.pos;
    const value = r.varint();
    const bytes = r.pos - at;
    // protobufjs reads 32-bit varints from their first 5 bytes and skips 5 more after a
    // continuation bit, so only those encodings come out as the value they hold.
    if (VARINT_32.has(kind) && !(bytes <= 5 && value < 2 ** 32) && !(bytes === 10 && kind !== "uint32" && kind !== "bool"))
      throw new Error(`value ${value} is out of range for ${kind}`);
    return;
  }
  fixed(r, wireType === I32 ? 4 : 8);
}

function skipUnknown(r: Reader, wireType: number): void {
  if (wireType === VARINT) r.varint();
  else if (wireType === I64) fixed(r, 8);
  else if (wireType === LEN) span(r);
  else if (wireType === I32) fixed(r, 4);
  else if (wireType === 3 || wireType === 4) throw new Error(`uses groups (wire type ${wireType}), which proto3 does not have`);
  else throw new Error(`has wire type ${wireType}, which does not exist`);
}

function expectWireType(actual: number, expected: number, kind: string): void {
  if (actual !== expected) throw new Error(`has wire type ${actual}; a ${kind} field is sent with wire type ${expected}`);
}

/** A tag or length: at most 5 bytes and below 2^32, the only ones protobufjs reads as what they say. */
function shortVarint(r: Reader, what: string): number {
  const at = r.pos;
  const value = r.varint();
  if (r.pos - at > 5 || value >= 2 ** 32)
    throw new Error(`${what} ${value} takes ${r.pos - at} bytes (a ${what} is below 2^32, in at most 5)`);
  return value;
}

/** Reads a length prefix; returns [start, end) of what it covers, refusing one that runs past the message. */
function span(r: Reader): [number, number] {
  const len = shortVarint(r, "length prefix");
  const left = r.end - r.pos;
  if (len > left) throw new Error(`length ${len} runs past the end of its message (${left} bytes left)`);
  const start = r.pos;
  r.pos += len;
  return [start, r.pos];
}

function fixed(r: Reader, size: number): void {
  if (size > r.end - r.pos) throw new Error(`a ${size}-byte value runs past the end of its message (${r.end - r.pos} bytes left)`);
  r.pos += size;
}
