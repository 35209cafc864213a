// Idempotent publishing: an idempotency key seen within the tenant's duplicate
// window is answered with the first append's cursor and not appended again,
// whether it comes in Publish or PublishBatch, from a retry or within one batch.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, IdempotencyKeys, type StreamgateClientError } from "../client-sdk/src/index.js";
import { tenantKeys } from "../server/redis/layout.js";
import { event, startTestServer, type TestServer, take, waitFor } from "./helpers.js";
import { md, rawClients, unary } from "./tenancyHelpers.js";

describe("idempotent publishing", () => {
  let t: TestServer;
  let raw: ReturnType<typeof rawClients>;
  const length = () => t.redis.xlen(tenantKeys(t.config.keyPrefix, t.config.tenant).events);
  beforeAll(async () => {
    t = await startTestServer({ dedupWindowMs: 1000 });
    raw = rawClients(t.app.address);
  });
  afterAll(async () => {
    raw.close();
    await t.close();
  });

  it("a repeated key gets the first cursor and `duplicate`, and is not appended again", async () => {
    const before = await length();
    const first = await unary<{ cursor: string; duplicate: boolean }>(
      raw.sg,
      "Publish",
      { routingKey: "order.placed", kref: { uri: "kref://shop/orders/o1.order" }, idempotencyKey: "order-1" },
      md(),
    );
    const again = await unary<{ cursor: string; duplicate: boolean }>(
      raw.sg,
      "Publish",
      // What a retry sends; even a different body is not stored again (the key decides, as in JetStream).
      { routingKey: "order.placed", kref: { uri: "kref://shop/orders/o1.order" }, idempotencyKey: "order-1", author: "retry" },
      md(),
    );
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ ...first, duplicate: true });
    expect(await length()).toBe(before + 1);
  });

  it("PublishBatch: keys already seen, and repeats inside the batch, are answered from the window; the rest appended", async () => {
    const before = await length();
    const seen = await t.client.publish({ ...event(1), idempotencyKey: "b-seen" });
    const res = await unary<{ cursors: string[]; duplicate: boolean[] }>(
      raw.sg,
      "PublishBatch",
      {
        events: [
          { routingKey: "a.b", kref: { uri: "kref://p/s/a.k" }, idempotencyKey: "b-new" },
          { routingKey: "a.b", kref: { uri: "kref://p/s/b.k" }, idempotencyKey: "b-seen" },
          { routingKey: "a.b", kref: { uri: "kref://p/s/c.k" } },
          { routingKey: "a.b", kref: { uri: "kref://p/s/d.k" }, idempotencyKey: "b-new" },
        ],
      },
      md(),
    );
    expect(res.duplicate).toEqual([false, true, false, true]);
    expect(res.cursors[1]).toBe(seen);
    expect(res.cursors[3]).toBe(res.cursors[0]);
    expect(await length()).toBe(before + 3);
    // Subscribers see each stored event once.
    const got = await take(t.client.eventStream({ cursor: seen, resume: false }), 2);
    expect(got.map((e) => e.kref.uri)).toEqual(["kref://p/s/a.k", "kref://p/s/c.k"]);
  });

  it("forgets a key after the window (never before it), and appends the event anew", async () => {
    const key = "window-1";
    const at = Date.now();
    const first = await t.client.publish({ ...event(2), idempotencyKey: key });
    // Later (at most about twice the window), the key is forgotten and the event is appended anew.
    let later = first;
    await waitFor(
      async () => {
        later = await t.client.publish({ ...event(2), idempotencyKey: key });
        return later !== first;
      },
      "the key to leave the duplicate window",
      10_000,
    );
    expect(Date.now() - at).toBeGreaterThanOrEqual(t.config.dedupWindowMs);
  });

  it("the SDK gives every event a key of its own; a key it is given wins", async () => {
    const keys = new IdempotencyKeys();
    expect(keys.next()).toMatch(new RegExp(`^${keys.producerId}-0$`));
    expect(keys.next()).toMatch(new RegExp(`^${keys.producerId}-1$`));
    // Two identical events without keys are two events; with one key, one.
    const before = await length();
    const [a, b] = [await t.client.publish(event(3)), await t.client.publish(event(3))];
    expect(a).not.toBe(b);
    expect(
      await t.client.publishBatch([
        { ...event(4), idempotencyKey: "mine" },
        { ...event(4), idempotencyKey: "mine" },
      ]),
    ).toEqual([expect.any(String), expect.any(String)]);
    expect(await length()).toBe(before + 3);
  });

  it.each([
    [{ idempotencyKey: "k".repeat(257) }, /idempotency_key is 257 bytes; the limit is 256/],
    [{ idempotencyKey: "bad\nkey" }, /idempotency_key must not contain control characters/],
  ])("refuses a bad key with INVALID_ARGUMENT: %#", async (extra, message) => {
    const err = (await t.client.publish({ ...event(5), ...extra }).catch((e: unknown) => e)) as StreamgateClientError;
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.message).toMatch(message);
    await expect(
      unary(raw.sg, "PublishBatch", { events: [{ routingKey: "a.b", kref: { uri: "kref://p/s/a.k" }, ...extra }] }, md()),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^events\[0\]: idempotency_key/) });
  });
});
