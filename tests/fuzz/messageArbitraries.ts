// fast-check arbitraries for our request messages, built from the generated
// descriptor (so every field of every request type is covered, and a field
// added to a .proto is fuzzed without touching this file), encoded with
// protobufjs as any client would. Strings lean towards what breaks servers:
// control characters, unicode, lengths at and around the limits, globs,
// cursors and timestamps that are almost right.
import fc from "fast-check";
import protobuf from "protobufjs";
import { descriptor } from "../../client-sdk/src/generated/descriptor.js";

const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);

/** protobufjs's type `name` ("streamgate.v1.PublishRequest"). */
export function protoType(name: string): protobuf.Type {
  return root.lookupType(name);
}

/** Encodes `value` (field names as in the generated types) as message `type`. */
export function encodeMessage(type: string, value: object): Buffer {
  const t = protoType(type);
  return Buffer.from(t.encode(t.fromObject(value)).finish());
}

/** Lengths at and around the server's limits (routing key 255, kref 1024, idempotency key 256, event 64 KiB). */
const NEAR_LIMITS = [1, 63, 64, 65, 254, 255, 256, 257, 1023, 1024, 1025, 4096, 65_535, 65_536, 65_537, 200_000];

const controlChars = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c)),
    fc.constantFrom("\u007f", "\u2028", "\ufeff", "\ud800"),
  ),
  maxLength: 12,
});

const huge = fc
  .tuple(fc.constantFrom(...NEAR_LIMITS), fc.constantFrom("x", "é", "✓", "\u0000", "*", "a.", "𝄞"))
  .map(([n, unit]) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n));

const digits = fc.oneof(
  fc.constantFrom("0", "-1", "1", "18446744073709551615", "18446744073709551616", "9007199254740993", "99999999999999999999999", ""),
  fc.bigInt({ min: 0n, max: 2n ** 70n }).map(String),
);

/** Cursors: "<ms>-<seq>.<epoch>" and near misses. */
export const cursorString = fc.oneof(
  fc.tuple(digits, digits).map(([a, b]) => `${a}-${b}`),
  fc.tuple(digits, digits, fc.oneof(digits, fc.string({ maxLength: 8 }))).map(([a, b, e]) => `${a}-${b}.${e}`),
  fc.constantFrom("$", ">", "+", "-", "0", "-0", "0-0", "1-", "-1-1", "0x10-0", "1e3-0", "1-1.", ".1", "1-1.1.1", " 1-1"),
);

/** Timestamps: valid ISO-8601, out-of-range dates and near misses. */
export const timestampString = fc.oneof(
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom(
    "",
    "now",
    "0",
    "1e20",
    "2024-02-30T25:61:00Z",
    "2024-13-45",
    "+275760-09-13T00:00:00.001Z",
    "-271821-04-19T23:59:59.999Z",
    "1970-01-01T00:00:00Z",
    "2024-01-01T00:00:00+99:99",
    "Invalid Date",
    "9999-12-31T23:59:59.999999999Z",
  ),
);

/** Globs and krefs: the filter grammar's pieces in any order. */
export const globString = fc
  .array(fc.constantFrom("*", "**", ".", "/", "a", "b", "kref://", "?", "[", "]", "{", "}", ",", "\\", "#", ">", " ", "%", "=", "&"), {
    maxLength: 14,
  })
  .map((parts) => parts.join(""));

/** Strings for any string field. */
export const fieldString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ maxLength: 24 }), weight: 3 },
  { arbitrary: fc.string({ unit: "grapheme", maxLength: 24 }), weight: 2 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 24 }), weight: 1 },
  { arbitrary: controlChars, weight: 2 },
  { arbitrary: huge, weight: 1 },
  { arbitrary: cursorString, weight: 2 },
  { arbitrary: timestampString, weight: 2 },
  { arbitrary: globString, weight: 2 },
  { arbitrary: fc.constantFrom("__proto__", "constructor", "toString", "hasOwnProperty", "kref://film/sh010.model?r=3"), weight: 1 },
);

const uint32 = fc.oneof(fc.constantFrom(0, 1, 2, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1), fc.nat({ max: 2 ** 32 - 1 }), fc.nat({ max: 100 }));

/**
 * Values of every field of `typeName`, each present or absent (so a oneof may get none, one or
 * several of its members). `strings` generates string fields (the whole value of a map);
 * `fields` replaces the arbitrary of some top-level fields (by their generated name, "routingKey").
 */
export function messageArbitrary(
  typeName: string,
  strings: fc.Arbitrary<string> = fieldString,
  fields: Record<string, fc.Arbitrary<unknown>> = {},
): fc.Arbitrary<Record<string, unknown>> {
  const type = protoType(typeName);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of type.fieldsArray) {
    field.resolve();
    const given = fields[field.name];
    if (given) {
      model[field.name] = given;
      continue;
    }
    const one = valueArbitrary(field, strings);
    if (field instanceof protobuf.MapField) model[field.name] = fc.dictionary(strings, one, { maxKeys: 6 });
    else model[field.name] = field.repeated ? fc.array(one, { maxLength: 6 }) : one;
  }
  return fc.record(model, { requiredKeys: [] });
}

function valueArbitrary(field: protobuf.Field, strings: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  if (field.resolvedType instanceof protobuf.Type) return messageArbitrary(field.resolvedType.fullName.slice(1), strings);
  switch (field.type) {
    case "string":
      return strings;
    case "bool":
      return fc.boolean();
    case "uint32":
      return uint32;
    case "int32":
      return fc.integer();
    case "int64":
    case "uint64":
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String);
    default:
      throw new Error(`no arbitrary for ${field.type} (${field.fullName}): add one`);
  }
}

/** One edit of an encoded message. */
type Mutation = { kind: "flip" | "set" | "insert" | "delete" | "truncate"; at: number; byte: number };

const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom("flip", "set", "insert", "delete", "truncate"),
  at: fc.nat(),
  byte: fc.oneof(fc.constantFrom(0x00, 0x7f, 0x80, 0xff, 0x08, 0x0a, 0x12), fc.nat({ max: 255 })),
});

function mutate(bytes: Buffer, edits: readonly Mutation[]): Buffer {
  let out = Buffer.from(bytes);
  for (const { kind, at, byte } of edits) {
    const i = out.length === 0 ? 0 : at % (out.length + (kind === "insert" ? 1 : 0));
    if (kind === "insert") out = Buffer.concat([out.subarray(0, i), Buffer.from([byte]), out.subarray(i)]);
    else if (out.length === 0) continue;
    else if (kind === "flip") out[i] = (out[i] as number) ^ (1 << (byte % 8));
    else if (kind === "set") out[i] = byte;
    else if (kind === "delete") out = Buffer.concat([out.subarray(0, i), out.subarray(i + 1)]);
    else out = out.subarray(0, i);
  }
  return out;
}

/**
 * Request bodies for `typeName`: random bytes, and valid encodings with a few bytes flipped,
 * set, inserted or removed, or cut short (most then are malformed, some still valid).
 */
export function bodyArbitrary(typeName: string): fc.Arbitrary<Buffer> {
  const small = fc.oneof(fc.constantFrom("", "a", "x.y", "kref://a/b.c"), fc.string({ maxLength: 12 }));
  return fc.oneof(
    fc.uint8Array({ maxLength: 48 }).map((b) => Buffer.from(b)),
    fc
      .tuple(
        messageArbitrary(typeName, small).map((v) => encodeMessage(typeName, v)),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
      )
      .map(([bytes, edits]) => mutate(bytes, edits)),
  );
}
