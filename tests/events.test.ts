import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import { descriptor } from "../client-sdk/src/generated/descriptor.js";
import { parseKref as parseClientKref } from "../client-sdk/src/kref.js";
import { batchBytes, batchEntryBytes, type WireEvent } from "../server/events/batchBytes.js";
import { encodeEvent, encodeEventBatch } from "../server/events/encodeEvent.js";
import { parseKref } from "../server/events/kref.js";
import { fromStreamFields, toStreamFields } from "../server/events/storedEvent.js";
import { MAX_KREF, MAX_NAME, MAX_ROUTING_KEY, validateEvent } from "../server/events/validateEvent.js";

const limits = { maxDetails: 4, maxDetailBytes: 32, maxEventBytes: 512, maxFilterLength: 1024 };
const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
const EventType = root.lookupType("kumiho.Event");
const BatchType = root.lookupType("streamgate.v1.EventBatch");
const PublishBatchType = root.lookupType("streamgate.v1.PublishBatchRequest");

describe("kref grammar", () => {
  it("parses an item kref with revision and artifact", () => {
    expect(parseKref("kref://film/shots/seq1/sh010.model?r=3&a=main.abc", 1024)).toMatchObject({
      project: "film",
      space: "shots/seq1",
      name: "sh010",
      kind: "model",
      revision: 3,
      artifact: "main.abc",
      path: "film/shots/seq1/sh010.model",
      query: "r=3&a=main.abc",
    });
  });

  // Kumiho's own project.* and space.* events carry project and space krefs, and its validate_kref accepts
  // them: they are valid on purpose (README "Validation"), and parse with empty name and kind.
  it.each([
    ["kref://film", { project: "film", space: "", name: "", kind: "" }],
    ["kref://film/shots", { project: "film", space: "shots", name: "", kind: "" }],
    ["kref://film/shots/sh010", { project: "film", space: "shots/sh010", name: "", kind: "" }],
    ["kref://film/hero.model", { project: "film", space: "", name: "hero", kind: "model" }],
    ["kref://film/hero.model?r=2", { project: "film", space: "", name: "hero", kind: "model", revision: 2 }],
    ["kref://film/shots/hero.v2.rig?r=1&a=main", { space: "shots", name: "hero.v2", kind: "rig", revision: 1, artifact: "main" }],
    // Kumiho's validate_kref also takes Unicode word characters, any revision, root-level spaces, and
    // a revision on any kref (tests/krefGrammar.test.ts has the whole table).
    ["kref://영화/shots/sh010.model", { project: "영화", space: "shots", name: "sh010", kind: "model" }],
    [
      "kref://café/scène/plan.model?r=2&a=main",
      { project: "café", space: "scène", name: "plan", kind: "model", revision: 2, artifact: "main" },
    ],
    ["kref://film/x.y?r=0", { name: "x", kind: "y", revision: 0 }],
    ["kref://film/x.y?r=007", { revision: 7 }],
    ["kref://film/x.y?r=٣", { revision: 3 }],
    ["kref:///shots", { project: "", space: "shots", name: "", kind: "", path: "/shots" }],
    ["kref:///shots/seq1/sh010.model", { project: "", space: "shots/seq1", name: "sh010", kind: "model" }],
    ["kref://film?r=3", { project: "film", space: "", name: "", kind: "", revision: 3 }],
    ["kref://film/shots/sh010.?r=3&a=main", { space: "shots/sh010.", name: "", kind: "", revision: 3, artifact: "main" }],
  ])("accepts %j as Kumiho's grammar reads it", (uri, parts) => {
    expect(parseKref(uri, 1024)).toMatchObject({ uri, ...parts });
  });

  it("the SDK reads a kref's parts the way the server validates them", () => {
    for (const uri of [
      "kref://film",
      "kref://film/shots/seq1",
      "kref://film/hero.model?r=2",
      "kref://film/shots/sh010.model?r=3&a=main",
      "kref://영화/샷/장면.모델?r=2",
      "kref:///shots/seq1",
      "kref:///hero.model",
    ]) {
      const server = parseKref(uri, 1024) as Exclude<ReturnType<typeof parseKref>, string>;
      const client = parseClientKref(uri);
      expect([client.project, client.space, client.name, client.kind], uri).toEqual([
        server.project,
        server.space,
        server.name,
        server.kind,
      ]);
    }
  });

  it.each([
    ["", /required/],
    ["film/shots/a.b", /must start with "kref:\/\/"/],
    ["kref://film//a.b", /empty path segment/],
    ["kref://film/../a.b", /\.\./],
    ["kref://film/a..b/c.d", /\.\./],
    ["kref://film/sh ot/a.b", /may only use/],
    ["kref://film/a.b?r=x", /revision must be a number/],
    ["kref://film/a.b?r=-1", /revision must be a number/],
    ["kref://film/a.b?a=main", /query part/],
    ["kref://film/a.b?r=1&a=../x", /\.\./],
    ["kref://film/a.b?r=1&a=ü", /artifact name "ü" may only use ASCII/],
    ["kref://film/a\u0000.b", /control characters/],
    [`kref://${"x".repeat(2000)}`, /the limit is 1024/],
    [`kref://${"가".repeat(1018)}`, /kref is 1025 characters; the limit is 1024/],
    ["kref:///", /empty path segment/],
    ["kref://", /has no path/],
    ["kref://film/sh\u{1F600}.model", /may only use letters, digits/],
    ["kref://film/cafe\u0301", /may only use letters, digits/],
  ])("rejects %j", (uri, message) => {
    expect(parseKref(uri, 1024)).toMatch(message);
  });
});

describe("event validation", () => {
  const ok = { routingKey: "item.model.created", kref: "kref://p/s/n.k", author: "a", username: "", details: { x: "y" } };

  it("accepts a well-formed event", () => {
    expect(validateEvent(ok, limits)).toBeNull();
  });

  it("accepts routing keys, krefs and names exactly at the fixed caps", () => {
    const roomy = { ...limits, maxEventBytes: 4096 };
    const atCaps = {
      ...ok,
      routingKey: `${"a".repeat(127)}.${"b".repeat(127)}`,
      kref: `kref://p/${"s".repeat(1024 - "kref://p/.k".length)}.k`,
      author: "a".repeat(MAX_NAME),
      username: "u".repeat(MAX_NAME),
    };
    expect([atCaps.routingKey.length, atCaps.kref.length]).toEqual([MAX_ROUTING_KEY, MAX_KREF]);
    expect(validateEvent(atCaps, roomy)).toBeNull();
  });

  it.each([
    [{ routingKey: "" }, /routing_key is required/],
    [{ routingKey: "Item.Created" }, /dot-separated segments/],
    [{ routingKey: "item..created" }, /dot-separated segments/],
    [{ routingKey: "item.*" }, /dot-separated segments/],
    [{ kref: "http://x" }, /kref:\/\//],
    [{ details: { a: "1", b: "2", c: "3", d: "4", e: "5" } }, /5 entries; the limit is 4/],
    [{ details: { big: "x".repeat(33) } }, /33 bytes; the limit is 32/],
    [{ details: { ["k".repeat(33)]: "v" } }, /the limit is 32/],
    [{ author: "x".repeat(600) }, /author is longer/],
    // The fixed caps the README's "Validation" section lists.
    [{ routingKey: "a".repeat(256) }, /routing_key is longer than 255 characters/],
    [{ kref: `kref://p/${"s".repeat(1020)}.k` }, /kref is 1031 characters; the limit is 1024/],
    [{ author: "a".repeat(256) }, /author is longer than 255 characters/],
    [{ username: "u".repeat(256) }, /username is longer than 255 characters/],
    [{ username: "bad\nname" }, /username must not contain control characters/],
    [
      {
        details: { a: "x".repeat(30), b: "x".repeat(30), c: "x".repeat(30), d: "x".repeat(30) },
        author: "y".repeat(250),
        username: "z".repeat(200),
      },
      /event is \d+ bytes; the limit is 512/,
    ],
  ])("rejects %j", (patch, message) => {
    expect(validateEvent({ ...ok, ...patch }, limits)).toMatch(message);
  });
});

describe("stream entries", () => {
  it("round-trip through the documented field layout", () => {
    const ev = {
      routingKey: "revision.tagged",
      kref: "kref://p/s/n.k?r=2",
      author: "ann",
      username: "ann@x",
      details: { tag: "approved" },
    };
    const fields = toStreamFields(ev);
    expect(fields).toEqual([
      "routing_key",
      "revision.tagged",
      "kref",
      "kref://p/s/n.k?r=2",
      "author",
      "ann",
      "username",
      "ann@x",
      "details",
      '{"tag":"approved"}',
    ]);
    expect(fromStreamFields("1-0", fields)).toEqual({ id: "1-0", ...ev });
  });

  it.each([
    [["kref", "kref://a"], /missing routing_key/],
    [["routing_key", "a.b"], /missing kref/],
    [["routing_key", "a", "kref", "kref://a", "details", "{nope"], /not JSON/],
    [["routing_key", "a", "kref", "kref://a", "details", "[1]"], /not a JSON object/],
    [["routing_key", "a", "kref", "kref://a", "details", '{"n":1}'], /must be strings/],
    [["routing_key", "NOT A KEY!!", "kref", "kref://a/b.c"], /routing_key is not a valid routing key/],
    [["routing_key", "a..b", "kref", "kref://a/b.c"], /routing_key is not a valid routing key/],
    [["routing_key", "a.b", "kref", "garbage"], /kref is not a valid kref/],
    [["routing_key", "a.b", "kref", "kref://a/../b.c"], /kref is not a valid kref/],
  ])("report undecodable entries %j", (fields, message) => {
    expect(fromStreamFields("1-0", fields)).toMatch(message);
  });
});

describe("event encoding", () => {
  it("produces bytes the generated kumiho.Event descriptor decodes to the same event", () => {
    const fields = {
      routingKey: "revision.created",
      kref: "kref://film/shots/sh010.model?r=3",
      timestamp: "2026-01-01T00:00:00.000Z",
      author: "ünïcødé",
      tenantId: "acme",
      details: { tag: "approved", "k€y": "v".repeat(300), empty: "" },
      username: "user",
      cursor: "1700000000000-5",
    };
    const decoded = EventType.toObject(EventType.decode(encodeEvent(fields)), { defaults: true });
    expect(decoded).toEqual({ ...fields, kref: { uri: fields.kref } });
  });

  it("omits empty strings as proto3 does, keeping an empty cursor for tiers without cursors", () => {
    const decoded = EventType.toObject(
      EventType.decode(
        encodeEvent({ routingKey: "a", kref: "kref://a", timestamp: "", author: "", tenantId: "t", details: {}, username: "", cursor: "" }),
      ),
      { defaults: true },
    );
    expect(decoded).toMatchObject({ routingKey: "a", cursor: "", author: "", tenantId: "t" });
  });

  it("frames pre-encoded events as a streamgate.v1.EventBatch", () => {
    const one = encodeEvent({
      routingKey: "a.b",
      kref: "kref://x",
      timestamp: "t",
      author: "",
      tenantId: "",
      details: {},
      username: "",
      cursor: "1-1",
    });
    const two = encodeEvent({
      routingKey: "c",
      kref: "kref://y",
      timestamp: "t",
      author: "",
      tenantId: "",
      details: { d: "e" },
      username: "",
      cursor: "1-2",
    });
    const batch = BatchType.toObject(BatchType.decode(encodeEventBatch([one, two])), { defaults: true }) as {
      events: { routingKey: string; cursor: string }[];
    };
    expect(batch.events.map((e) => [e.routingKey, e.cursor])).toEqual([
      ["a.b", "1-1"],
      ["c", "1-2"],
    ]);
  });
});

describe("PublishBatch size", () => {
  // The measure STREAMGATE_MAX_BATCH_BYTES limits and `streamgate publish` sizes batches with: it must be
  // the request's real protobuf size, or batches the CLI thinks fit would be refused (or gRPC's limit missed).
  it("batchBytes is the protobuf size of the PublishBatchRequest the client sends", () => {
    const events: WireEvent[] = [
      {
        routingKey: "revision.created",
        kref: "kref://film/shots/sh010.model?r=3",
        author: "ci",
        username: "",
        details: { tag: "approved" },
      },
      { routingKey: "a", kref: "kref://p", author: "", username: "ünïcødé", details: {}, idempotencyKey: "order-42:v1" },
      {
        routingKey: "big.one",
        kref: "kref://p/s/n.k",
        author: "x".repeat(200),
        username: "u",
        details: { k: "v".repeat(70_000), "€": "" },
      },
    ];
    const wire = { events: events.map((e) => ({ ...e, kref: { uri: e.kref } })) };
    const encoded = PublishBatchType.encode(PublishBatchType.fromObject(wire)).finish();
    expect(batchBytes(events)).toBe(encoded.length);
    expect(events.map(batchEntryBytes).reduce((a, b) => a + b)).toBe(encoded.length);
  });
});
