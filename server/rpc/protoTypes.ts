// The message types of our protos as plain data, read from the generated
// protobufjs JSON descriptor (client-sdk/src/generated/descriptor.ts): which
// field numbers a message has and what each holds. The request wire check
// (wireFormatProblem.ts) walks bytes with it; nothing here decodes values.
import { descriptor } from "../../client-sdk/src/generated/descriptor.js";

/** What one field holds, as far as the wire format is concerned. */
export interface ProtoField {
  /** The proto name (snake_case), for messages a user can match against their .proto file. */
  name: string;
  /** A scalar type ("string", "uint32", ...), or "message" (`type` then names the message). */
  kind: string;
  /** The full name of the message type, for kind "message" (a map's entry type is synthesised). */
  type?: string;
  repeated: boolean;
}

/** A message type: its fields by number. */
export interface ProtoMessage {
  name: string;
  fields: ReadonlyMap<number, ProtoField>;
}

interface JsonNode {
  nested?: Record<string, JsonNode>;
  fields?: Record<string, { type: string; id: number; rule?: string; keyType?: string }>;
  methods?: Record<string, { requestType: string }>;
}

const SCALARS = new Set([
  "double",
  "float",
  "int32",
  "int64",
  "uint32",
  "uint64",
  "sint32",
  "sint64",
  "fixed32",
  "fixed64",
  "sfixed32",
  "sfixed64",
  "bool",
  "string",
  "bytes",
]);

const nodes = new Map<string, JsonNode>();
(function index(node: JsonNode, prefix: string) {
  for (const [name, child] of Object.entries(node.nested ?? {})) {
    const full = prefix ? `${prefix}.${name}` : name;
    nodes.set(full, child);
    index(child, full);
  }
})(descriptor as unknown as JsonNode, "");

/** Resolves a type reference as protoc does: innermost enclosing scope first, a leading "." is absolute. */
function resolve(ref: string, scope: string): string | undefined {
  if (ref.startsWith(".")) return nodes.has(ref.slice(1)) ? ref.slice(1) : undefined;
  const parts = scope.split(".");
  for (let i = parts.length; i >= 0; i--) {
    const candidate = [...parts.slice(0, i), ref].join(".");
    if (nodes.has(candidate)) return candidate;
  }
  return undefined;
}

const snake = (camel: string) => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const messages = new Map<string, ProtoMessage>();

/** The message type `fullName` ("kumiho.EventStreamRequest"); throws for a name our protos do not define. */
export function messageType(fullName: string): ProtoMessage {
  const known = messages.get(fullName);
  if (known) return known;
  const node = nodes.get(fullName);
  if (!node?.fields) throw new Error(`${fullName} is not a message of our protos`);
  const fields = new Map<number, ProtoField>();
  for (const [camel, f] of Object.entries(node.fields)) {
    const name = snake(camel);
    if (f.keyType !== undefined) {
      // A map is a repeated entry message { key = 1; value = 2 } on the wire.
      const entry = `${fullName}.${name}.<entry>`;
      const value = valueField("value", f.type, fullName);
      messages.set(entry, {
        name: entry,
        fields: new Map([
          [1, { name: "key", kind: f.keyType, repeated: false }],
          [2, value],
        ]),
      });
      fields.set(f.id, { name, kind: "message", type: entry, repeated: true });
    } else {
      fields.set(f.id, { ...valueField(name, f.type, fullName), repeated: f.rule === "repeated" });
    }
  }
  const message = { name: fullName, fields };
  messages.set(fullName, message);
  // Resolve what it contains now, so a type our protos cannot resolve fails at start-up, not on a request.
  for (const f of fields.values()) if (f.type !== undefined) messageType(f.type);
  return message;
}

function valueField(name: string, type: string, scope: string): ProtoField {
  if (SCALARS.has(type)) return { name, kind: type, repeated: false };
  const full = resolve(type, scope);
  if (full === undefined) throw new Error(`${scope}.${name}: unknown type ${type}`);
  // Enums are varints on the wire; messages have fields.
  return nodes.get(full)?.fields ? { name, kind: "message", type: full, repeated: false } : { name, kind: "enum", repeated: false };
}

/** The full name of the request message of `service` ("streamgate.v1.Streamgate") method `method` ("Publish"). */
export function requestTypeName(service: string, method: string): string {
  const ref = nodes.get(service)?.methods?.[method]?.requestType;
  const full = ref === undefined ? undefined : resolve(ref, service.slice(0, service.lastIndexOf(".")));
  if (full === undefined) throw new Error(`${service}/${method} is not a method of our protos`);
  return full;
}
