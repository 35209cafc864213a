import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import { descriptor } from "../../client-sdk/src/generated/descriptor.js";
import { parseKref } from "../../client-sdk/src/kref.js";
import {
  decodeEvent,
  decodeEventBatch,
  encodePublishBatchRequest,
  encodePublishRequest,
  type PublishRequestFields,
} from "../../client-sdk/src/wire/codecs.js";
import { encodeEvent, encodeEventBatch } from "../../server/events/encodeEvent.js";

// The generated descriptor's own codec is the reference for the hand-written ones.
const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
const Event = root.lookupType("kumiho.Event");
const EventBatch = root.lookupType("streamgate.v1.EventBatch");
const PublishRequest = root.lookupType("streamgate.v1.PublishRequest");
const PublishBatchRequest = root.lookupType("streamgate.v1.PublishBatchRequest");
const opts = { longs: String, enums: String, defaults: true, oneofs: true };
const asObject = (type: protobuf.Type, bytes: Uint8Array) => type.toObject(type.decode(bytes), opts);

interface WireEvent {
  routingKey: string;
  kref: { uri: string } | null;
  timestamp: string;
  author: string;
  tenantId: string;
  details: Record<string, string>;
  username: string;
  cursor: string;
}

const events: WireEvent[] = [
  {
    routingKey: "revision.created",
    kref: { uri: "kref://film/shots/sh010.model?r=3" },
    timestamp: "2026-12-01T10:00:00.000Z",
    author: "ci",
    tenantId: "acme",
    details: { a: "1", ünï: "çødé ✓", "": "" },
    username: "ann",
    cursor: "1764583200000-0",
  },
  { routingKey: "x", kref: { uri: "" }, timestamp: "", author: "", tenantId: "", details: {}, username: "", cursor: "" },
  { routingKey: "", kref: null, timestamp: "", author: "", tenantId: "", details: {}, username: "", cursor: "" },
];

describe("the client's hand-written codecs", () => {
  it.each(events.map((e, i) => [i, e]))("decode kumiho.Event %i as the generated codec does", (_, ev) => {
    const bytes = Event.encode(Event.fromObject(ev)).finish();
    expect(decodeEvent(Buffer.from(bytes))).toEqual(asObject(Event, bytes));
  });

  it("decode the server's own EventBatch frames, events in order", () => {
    const frame = encodeEventBatch(events.map((e) => encodeEvent({ ...e, kref: e.kref?.uri ?? "" })));
    expect(decodeEventBatch(frame)).toEqual(asObject(EventBatch, frame));
  });

  it("skip fields a newer server adds", () => {
    const w = protobuf.Writer.create();
    w.uint32((1 << 3) | 2).string("revision.created");
    w.uint32((20 << 3) | 0).uint64(99);
    w.uint32((21 << 3) | 2).string("future");
    w.uint32((8 << 3) | 2).string("1-0");
    const ev = decodeEvent(Buffer.from(w.finish()));
    expect([ev.routingKey, ev.cursor]).toEqual(["revision.created", "1-0"]);
  });

  it("reject a truncated frame", () => {
    const frame = encodeEventBatch([encodeEvent({ ...(events[0] as WireEvent), kref: "kref://a/b.c" })]);
    expect(() => decodeEventBatch(frame.subarray(0, frame.length - 2))).toThrow(/truncated/);
  });

  const publishes: PublishRequestFields[] = [
    { routingKey: "revision.created", kref: { uri: "kref://film/a.model" }, author: "ci", username: "u", details: { seq: "1", ü: "✓" } },
    { routingKey: "x", kref: { uri: "" }, author: "", username: "", details: {} },
    { routingKey: "y" },
  ];

  it.each(publishes.map((p, i) => [i, p]))("encode PublishRequest %i so the generated codec reads the same fields", (_, req) => {
    expect(asObject(PublishRequest, encodePublishRequest(req))).toEqual(
      asObject(PublishRequest, PublishRequest.encode(PublishRequest.fromObject(req)).finish()),
    );
  });

  it("encode a PublishBatchRequest with its events in order", () => {
    const bytes = encodePublishBatchRequest({ events: publishes });
    expect(asObject(PublishBatchRequest, bytes)).toEqual(
      asObject(PublishBatchRequest, PublishBatchRequest.encode(PublishBatchRequest.fromObject({ events: publishes })).finish()),
    );
  });
});

describe("parseKref", () => {
  it.each([
    [
      "kref://film/shots/sh010.model?r=3&a=main",
      { project: "film", space: "shots", name: "sh010", kind: "model", revision: 3, artifact: "main" },
    ],
    ["kref://film/shots/sh010.model?r=3", { revision: 3, artifact: undefined }],
    ["kref://film/shots/sh010.model?a=x%20y", { revision: undefined, artifact: "x y" }],
    ["kref://film/shots/sh010.model?r=x", { revision: undefined }],
    ["kref://film", { project: "film", space: "", name: "", revision: undefined }],
  ])("reads %s", (uri, parts) => {
    expect(parseKref(uri)).toMatchObject(parts);
  });
});

// The straightforward reading parseKref was written from, kept as the reference for the fast one.
function referenceParse(uri: string) {
  const body = uri.startsWith("kref://") ? uri.slice("kref://".length) : uri;
  const q = body.indexOf("?");
  const path = q < 0 ? body : body.slice(0, q);
  const params = new URLSearchParams(q < 0 ? "" : body.slice(q + 1));
  const segments = path.split("/");
  const last = segments[segments.length - 1] ?? "";
  const dot = segments.length >= 2 ? last.lastIndexOf(".") : -1;
  const isItem = dot > 0 && dot < last.length - 1;
  const r = params.get("r");
  return {
    uri,
    project: segments[0] ?? "",
    space: segments.slice(1, isItem ? -1 : undefined).join("/"),
    name: isItem ? last.slice(0, dot) : "",
    kind: isItem ? last.slice(dot + 1) : "",
    revision: r !== null && /^\d+$/.test(r) ? Number(r) : undefined,
    artifact: params.get("a") ?? undefined,
  };
}

describe("parseKref agrees with the reference reading on every shape", () => {
  const paths = [
    "film",
    "film/shots",
    "film/shots/seq1",
    "film/hero.model",
    "film/shots/sh010.model",
    "film/a/b/c.d.e",
    "film//x.y",
    "film/shots/",
    "film/.hidden",
    "film/x.",
    "",
    "/",
    "a/b/",
  ];
  const queries = [
    "",
    "?r=3",
    "?r=3&a=main",
    "?a=main&r=2",
    "?r=",
    "?r=x",
    "?r=1&r=2",
    "?a",
    "?a=x%20y",
    "?a=x+y",
    "?r=1&a=",
    "?&r=4",
    "?ra=1&r=5",
  ];
  const uris = paths.flatMap((p) => queries.flatMap((q) => [`kref://${p}${q}`, `${p}${q}`]));
  it.each(uris)("%s", (uri) => {
    expect(parseKref(uri)).toEqual(referenceParse(uri));
  });
});

describe("repeated-field cache of the event decoder", () => {
  it("never returns a remembered value for different bytes of the same length", () => {
    const keys = ["item.created", "item.deleted", "item.created", "ïtem.créé", "ïtem.crée"];
    const frame = encodeEventBatch(
      keys.map((routingKey, i) =>
        encodeEvent({
          routingKey,
          kref: "kref://a/b.c",
          timestamp: `2026-12-01T00:00:0${i}.000Z`,
          author: i % 2 ? "bob" : "ann",
          tenantId: "t",
          details: i % 2 ? { kx: "1" } : { ky: "2" },
          username: "",
          cursor: `${i}-0`,
        }),
      ),
    );
    const decoded = decodeEventBatch(frame).events;
    expect(decoded.map((e) => e.routingKey)).toEqual(keys);
    expect(decoded.map((e) => e.author)).toEqual(["ann", "bob", "ann", "bob", "ann"]);
    expect(decoded.map((e) => Object.keys(e.details)[0])).toEqual(["ky", "kx", "ky", "kx", "ky"]);
    expect(decoded.map((e) => e.timestamp.slice(17, 19))).toEqual(["00", "01", "02", "03", "04"]);
  });
});
