import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import { descriptor } from "../client-sdk/src/generated/descriptor.js";
import { decodePublishBatchRequest, decodePublishRequest } from "../server/events/decodePublish.js";

// The generated descriptor's own encoder and decoder are the reference.
const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
const PublishRequest = root.lookupType("streamgate.v1.PublishRequest");
const PublishBatchRequest = root.lookupType("streamgate.v1.PublishBatchRequest");
const opts = { longs: String, enums: String, defaults: true, oneofs: true };

function reference(type: protobuf.Type, msg: object) {
  const bytes = Buffer.from(type.encode(type.fromObject(msg)).finish());
  return { bytes, decoded: type.toObject(type.decode(bytes), opts) };
}

const samples = [
  {
    routingKey: "revision.created",
    kref: { uri: "kref://film/shots/sh010.model?r=3" },
    author: "ci",
    details: { a: "1", ünï: "çødé ✓" },
    username: "ann",
  },
  { routingKey: "x" },
  {},
  { kref: { uri: "" }, details: { "": "" } },
  { routingKey: "r", details: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, "v".repeat(300)])) },
];

describe("hand-written publish decoders", () => {
  it.each(samples.map((s, i) => [i, s]))("decode PublishRequest %i exactly as the generated code does", (_, msg) => {
    const { bytes, decoded } = reference(PublishRequest, msg);
    expect(decodePublishRequest(bytes)).toEqual(decoded);
  });

  it("decode a PublishBatchRequest in order", () => {
    const { bytes, decoded } = reference(PublishBatchRequest, { events: samples });
    expect(decodePublishBatchRequest(bytes)).toEqual(decoded);
  });

  it("skip fields they do not know (a newer client) and keep the last value of a repeated scalar", () => {
    const w = protobuf.Writer.create();
    w.uint32((1 << 3) | 2).string("first");
    w.uint32((9 << 3) | 0).uint64(123456789012);
    w.uint32((10 << 3) | 1).fixed64(1);
    w.uint32((11 << 3) | 5).fixed32(1);
    w.uint32((12 << 3) | 2).bytes(Buffer.from([1, 2, 3]));
    w.uint32((1 << 3) | 2).string("last");
    expect(decodePublishRequest(Buffer.from(w.finish())).routingKey).toBe("last");
  });

  it("reject truncated input instead of reading past it", () => {
    const { bytes } = reference(PublishRequest, samples[0] as object);
    expect(() => decodePublishRequest(bytes.subarray(0, bytes.length - 3))).toThrow(/truncated/);
  });
});
