import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanDetails } from "../server/events/detailsScan.js";
import { toStreamFields } from "../server/events/storedEvent.js";
import { decodeEntries, type RawEntry } from "../server/fanout/decodeEntries.js";
import { FeedEvent, StreamOrigin } from "../server/fanout/feedEvent.js";
import { RawEvent } from "../server/fanout/rawEvent.js";
import { createLogger } from "../server/observability/logger.js";
import { tenantKeys } from "../server/redis/layout.js";
import { startTestServer, type TestServer, take } from "./helpers.js";

const log = createLogger("silent");
const acme = new StreamOrigin("acme", "0a1b2c3d");
const t1 = new StreamOrigin("t", "0a1b2c3d");
const entry = (id: string, fields: string[]): RawEntry => [Buffer.from(id), fields.map((f) => Buffer.from(f))];

describe("events kept as Redis bytes", () => {
  it.each([
    [
      {
        routingKey: "revision.created",
        kref: "kref://film/shots/sh010.model?r=3",
        author: "ünï",
        username: "u",
        details: { a: "1", "k€y": "✓".repeat(50), empty: "", "": "x" },
      },
    ],
    [{ routingKey: "a", kref: "kref://a", author: "", username: "", details: {} }],
    [{ routingKey: "a.b", kref: "kref://a/b.c", author: "x", username: "", details: { long: "v".repeat(5000) } }],
  ])("encode to exactly the bytes of the decoded-fields path %#", (ev) => {
    const fields = toStreamFields(ev);
    const [fast] = decodeEntries([entry("1700000000000-3", fields)], acme, "s", log);
    // The reference: the same event from decoded strings (the consumer-group path).
    const slow = new FeedEvent({ id: "1700000000000-3", ...ev }, acme);
    expect(fast?.source).toBeInstanceOf(RawEvent);
    expect(fast?.bytes(true).equals(slow.bytes(true))).toBe(true);
    expect(fast?.bytes(false).equals(slow.bytes(false))).toBe(true);
    expect(fast?.segments).toEqual(ev.routingKey.split("."));
  });

  it.each([
    ['{"a":"1"}', [["a", "1"]]],
    [
      ' { "a" : "1" , "b":"" } ',
      [
        ["a", "1"],
        ["b", ""],
      ],
    ],
    ["{}", []],
    ['{"q":"say \\"hi\\"","nl":"a\\nb","u":"\\u00fc\\ud83d\\ude00","s":"a\\/b"}', null],
  ])("read details %j exactly as JSON.parse does", (json, spans) => {
    const buf = Buffer.from(json);
    const found = scanDetails(buf, 0, buf.length);
    if (spans === null) {
      // Escaped strings: the byte path declines, the string path (JSON.parse) takes the entry.
      expect(found?.some((v, i) => i % 3 === 2 && v === 1)).toBe(true);
    } else {
      const pairs = [];
      for (let i = 0; found && i < found.length; i += 6) {
        pairs.push([buf.toString("utf8", found[i], found[i + 1]), buf.toString("utf8", found[i + 3], found[i + 4])]);
      }
      expect(pairs).toEqual(spans);
      expect(Object.entries(JSON.parse(json))).toEqual(spans);
    }
  });

  it.each([
    '{"n":1}',
    '{"a":"1",}',
    '{"a":"1"} x',
    "[]",
    '{"a":{"b":"c"}}',
    '{"a":"raw\ttab"}',
    '{"a"}',
    "",
    '"x"',
  ])("decline details that are not a flat object of strings: %j", (json) => {
    const buf = Buffer.from(json);
    expect(scanDetails(buf, 0, buf.length)).toBeNull();
  });

  it("fall back to the string path for escaped details and still skip invalid entries", () => {
    const escaped = toStreamFields({ routingKey: "a", kref: "kref://a", author: "", username: "", details: { q: 'say "hi"\n' } });
    const [ev] = decodeEntries([entry("1-0", escaped)], t1, "s", log);
    expect(ev?.source).toMatchObject({ details: { q: 'say "hi"\n' } });
    const bad = decodeEntries([entry("2-0", ["routing_key", "a", "kref", "kref://a", "details", '{"n":1}'])], t1, "s", log);
    expect(bad).toEqual([]);
  });
});

describe("events written by other producers, end to end", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it("arrive with exactly the details JSON.parse reads, whatever the JSON's spacing or escapes", async () => {
    const texts = ['{"a":"1"}', ' {\n "b" : "two words" } ', '{"q":"say \\"hi\\"","u":"\\u00fc"}', '{"dup":"first","dup":"last"}', "{}"];
    const key = tenantKeys(t.config.keyPrefix, t.config.tenant).events;
    for (const d of texts) await t.redis.xadd(key, "*", "routing_key", "ext.event", "kref", "kref://ext/x.y", "details", d);
    await t.redis.xadd(key, "*", "routing_key", "ext.event", "kref", "kref://ext/x.y", "details", '{"n":1}'); // skipped
    const got = await take(t.client.eventStream({ fromBeginning: true, resume: false }), texts.length);
    expect(got.map((e) => e.details)).toEqual(texts.map((d) => JSON.parse(d)));
  });
});
