import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, type StreamgateClientError } from "../client-sdk/src/index.js";
import { batchBytes } from "../server/events/batchBytes.js";
import { counters } from "../server/observability/counters.js";
import { tenantKeys } from "../server/redis/layout.js";
import { event, idOf, startTestServer, type TestServer, take } from "./helpers.js";

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
    const [[id, fields]] = (await t.redis.xrange(tenantKeys(t.config.keyPrefix, "default").events, idOf(cursor), idOf(cursor))) as [
      [string, string[]],
    ];
    expect(id).toBe(idOf(cursor));
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
    // Another producer's entries that Publish would have refused: bad routing key, bad kref, bytes that are not UTF-8.
    await t.redis.xadd(key, "*", "routing_key", "NOT A KEY!!", "kref", "kref://p/s/a.model");
    await t.redis.xadd(key, "*", "routing_key", "a.b", "kref", "garbage");
    await t.redis.xadd(key, "*", "routing_key", Buffer.from([0x61, 0xff, 0xfe]), "kref", "kref://p/s/a.model");
    // Free text that is not UTF-8 is delivered with the bad bytes replaced, so no decoder chokes on it.
    const replaced = (await t.redis.xadd(
      key,
      "*",
      "routing_key",
      "a.b",
      "kref",
      "kref://p/s/a.model",
      "author",
      Buffer.from([0x62, 0xff]),
    )) as string;
    const good = await t.client.publish(event(5));
    const got = await take(sub, 2);
    expect(got.map((e) => idOf(e.cursor))).toEqual([replaced, idOf(good)]);
    expect(got[0]?.author).toBe("b\uFFFD");
    expect(counters.undecodableEntries - before).toBe(5);
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
    expect(got?.cursor).toBe(`${id}.${await t.redis.get(tenantKeys(t.config.keyPrefix, "default").epoch)}`);
    expect(got).toMatchObject({ routingKey: "external.sync", tenantId: "default", details: { from: "etl" }, author: "" });
    expect(got?.timestamp).toBe(new Date(Number(id.split("-")[0])).toISOString());
  });
});

describe("PublishBatch size limit (STREAMGATE_MAX_BATCH_BYTES) with the default configuration", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  /** An event of about `bytes` bytes of details (8 entries: the default cap on one value is 8 KiB). */
  // Each with its own idempotency key, so that the bytes counted here are the bytes the client sends.
  const sized = (i: number, bytes: number) => ({
    routingKey: "batch.bytes",
    kref: `kref://film/shots/sh${i}.model`,
    idempotencyKey: `sized-${randomUUID()}`,
    details: Object.fromEntries(Array.from({ length: 8 }, (_, k) => [`k${k}`, "x".repeat(Math.floor(bytes / 8))])),
  });
  const stored = () => t.redis.xlen(tenantKeys(t.config.keyPrefix, "default").events);

  it("a batch just over 4 MiB gets INVALID_ARGUMENT naming the limit (not gRPC's 'Received message larger than max')", async () => {
    expect(t.config.maxBatchBytes).toBe(4_194_304); // also gRPC's default receive limit
    const events = Array.from({ length: 70 }, (_, i) => sized(i, 60_000));
    expect(batchBytes(events)).toBeGreaterThan(4_194_304);
    const before = await stored();
    const err = await rejection(t.client.publishBatch(events));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.message).toBe(
      `batch is ${batchBytes(events)} bytes; the limit is 4194304 bytes per PublishBatch (STREAMGATE_MAX_BATCH_BYTES): send fewer events per batch`,
    );
    expect(err.trailers["streamgate-max-batch-bytes"]).toBe("4194304");
    expect(await stored()).toBe(before);
  });

  it("a batch of exactly the limit is accepted; one byte more is refused", async () => {
    const limit = 4_194_304;
    const events = Array.from({ length: 69 }, (_, i) => sized(i, 60_000));
    // A last event whose details fill the request up to exactly the limit.
    const filler = {
      routingKey: "batch.bytes",
      kref: "kref://film/shots/filler.model",
      idempotencyKey: `filler-${randomUUID()}`,
      details: {} as Record<string, string>,
    };
    events.push(filler);
    let key = "";
    for (let k = 0; batchBytes(events) < limit - 64; k++) {
      key = `p${k}`;
      filler.details[key] = "p".repeat(Math.min(8000, limit - batchBytes(events) - 64));
    }
    for (let diff = limit - batchBytes(events), n = 0; diff !== 0 && n < 10; diff = limit - batchBytes(events), n++) {
      filler.details[key] = "p".repeat((filler.details[key] as string).length + diff);
    }
    expect(batchBytes(events)).toBe(limit);
    const before = await stored();
    expect(await t.client.publishBatch(events)).toHaveLength(70);
    expect(await stored()).toBe(before + 70);
    filler.details[key] += "p";
    // New keys of the same length: not duplicates of the batch above.
    for (const e of events) e.idempotencyKey = `${e.idempotencyKey.slice(0, -36)}${randomUUID()}`;
    const err = await rejection(t.client.publishBatch(events));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.message).toMatch(/^batch is 4194305 bytes; the limit is 4194304 bytes/);
  });

  it("too many events is refused naming the limit, with the limit in a trailer", async () => {
    const err = await rejection(t.client.publishBatch(Array.from({ length: 1001 }, (_, i) => event(i))));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.message).toBe("batch has 1001 events; the limit is 1000");
    expect(err.trailers["streamgate-max-batch-events"]).toBe("1000");
  });

  it("far above the limit gRPC refuses the request before the handler; the client says what to do", async () => {
    const err = await rejection(t.client.publishBatch(Array.from({ length: 100 }, (_, i) => sized(i, 60_000))));
    expect(err.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(err.message).toMatch(
      /^Received message larger than max .*: the batch is larger than the server accepts \(its STREAMGATE_MAX_BATCH_BYTES\)/,
    );
  });
});
