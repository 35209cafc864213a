import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, type StreamgateClientError } from "../client-sdk/src/index.js";
import { counters } from "../server/observability/counters.js";
import { tenantKeys } from "../server/redis/layout.js";
import { event, startTestServer, type TestServer, take } from "./helpers.js";

async function rejection(p: Promise<unknown>): Promise<StreamgateClientError> {
  return p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e as StreamgateClientError,
  );
}

describe("publishing", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ maxDetails: 8, maxDetailBytes: 256, maxEventBytes: 1024, maxBatchEvents: 50 });
  });
  afterAll(async () => {
    await t.close();
  });

  it("stores the documented entry layout so other producers can XADD directly", async () => {
    const cursor = await t.client.publish({
      routingKey: "revision.tagged",
      kref: "kref://p/s/n.k?r=2",
      author: "ann",
      details: { tag: "ok" },
    });
    const [[id, fields]] = (await t.redis.xrange(tenantKeys(t.config.keyPrefix, "default").events, cursor, cursor)) as [[string, string[]]];
    expect(id).toBe(cursor);
    expect(fields).toEqual(["routing_key", "revision.tagged", "kref", "kref://p/s/n.k?r=2", "author", "ann", "details", '{"tag":"ok"}']);
  });

  it.each([
    [{ routingKey: "Bad Key" }, /routing_key "Bad Key" must be dot-separated segments/],
    [{ kref: "kref://film/../etc" }, /must not contain "\.\."/],
    [{ kref: "" }, /kref is required/],
    [{ details: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, "v"])) }, /9 entries; the limit is 8/],
    [{ details: { big: "x".repeat(300) } }, /300 bytes; the limit is 256/],
    [{ details: { a: "x".repeat(250), b: "x".repeat(250), c: "x".repeat(250), d: "x".repeat(250) } }, /the limit is 1024/],
  ])("rejects a bad event with INVALID_ARGUMENT (%#)", async (patch, message) => {
    const err = await rejection(t.client.publish({ ...event(1), ...patch }));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.message).toMatch(message);
  });

  it("PublishBatch returns cursors in order and subscribers see the events in that order", async () => {
    const sub = t.client.eventStream();
    await sub.ready;
    const cursors = await t.client.publishBatch(Array.from({ length: 10 }, (_, i) => event(i)));
    expect(cursors).toHaveLength(10);
    const got = await take(sub, 10);
    expect(got.map((e) => e.cursor)).toEqual(cursors);
    expect(got.map((e) => e.details.i)).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
  });

  it("PublishBatch is all-or-nothing: one bad event rejects the batch and nothing is stored", async () => {
    const key = tenantKeys(t.config.keyPrefix, "default").events;
    const before = await t.redis.xlen(key);
    const batch = [event(1), event(2), { ...event(3), routingKey: "NOPE" }, event(4)];
    const err = await rejection(t.client.publishBatch(batch));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.message).toMatch(/^events\[2\]: routing_key "NOPE"/);
    expect(await t.redis.xlen(key)).toBe(before);
  });

  it("PublishBatch refuses empty and oversized batches", async () => {
    expect((await rejection(t.client.publishBatch([]))).message).toMatch(/events is empty/);
    const err = await rejection(t.client.publishBatch(Array.from({ length: 51 }, (_, i) => event(i))));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.message).toMatch(/51 events; the limit is 50/);
  });

  it("skips a stream entry it cannot decode with a counter, and keeps the stream going", async () => {
    const key = tenantKeys(t.config.keyPrefix, "default").events;
    const sub = t.client.eventStream({ fromBeginning: false });
    await sub.ready;
    const before = counters.undecodableEntries;
    await t.redis.xadd(key, "*", "garbage", "1");
    await t.redis.xadd(key, "*", "routing_key", "a.b", "kref", "kref://x/y", "details", "{not json");
    const good = await t.client.publish(event(5));
    const [got] = await take(sub, 1);
    expect(got?.cursor).toBe(good);
    expect(counters.undecodableEntries - before).toBe(2);
  });

  it("an event XADDed directly by another producer is delivered with server-derived timestamp and tenant", async () => {
    const key = tenantKeys(t.config.keyPrefix, "default").events;
    const sub = t.client.eventStream({ routingKeyFilter: "external.#" });
    await sub.ready;
    const id = (await t.redis.xadd(
      key,
      "*",
      "routing_key",
      "external.sync",
      "kref",
      "kref://ext/a/b.c",
      "details",
      '{"from":"etl"}',
    )) as string;
    const [got] = await take(sub, 1);
    expect(got).toMatchObject({ cursor: id, routingKey: "external.sync", tenantId: "default", details: { from: "etl" }, author: "" });
    expect(got?.timestamp).toBe(new Date(Number(id.split("-")[0])).toISOString());
  });
});
