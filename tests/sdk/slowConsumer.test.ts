// A subscriber that falls behind the retention window: retention trims events it has not received, so
// the SDK cannot resume it without a gap. It must say so at once instead of retrying into OUT_OF_RANGE.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, type Event, type StreamgateClientError } from "../../client-sdk/src/index.js";
import { defaultTiers, type Tier } from "../../server/tenancy/tiers.js";
import { event, startTestServer, type TestServer } from "../helpers.js";

describe("a subscriber behind the retention window", () => {
  let t: TestServer;
  beforeAll(async () => {
    // A buffer of 50 events and small reads: a burst of 500 is trimmed before the shared reader gets through it.
    const tier: Tier = { ...(defaultTiers.creator as Tier), name: "tiny", maxBufferSize: 50 };
    t = await startTestServer({ readBatch: 10 }, () => ({ tenantId: "tiny-slow", tier }));
  });
  afterAll(async () => {
    await t.close();
  });

  it("is not resumed: the loop gets every event that arrived, then RESOURCE_EXHAUSTED saying why, with no reconnect", async () => {
    const sub = t.client.eventStream({ resume: { maxAttempts: 20, initialDelayMs: 1, maxDelayMs: 10 } });
    await sub.ready;
    const reconnects: string[] = [];
    sub.on("reconnect", (info) => reconnects.push(info.error.codeName));
    const got: Event[] = [];
    const loop = (async () => {
      for await (const e of sub) got.push(e);
    })().then(
      () => undefined,
      (e: unknown) => e as StreamgateClientError,
    );
    const cursors = await t.client.publishBatch(Array.from({ length: 500 }, (_, i) => event(i)));
    const err = await loop;

    expect(err?.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(err?.retryable).toBe(false);
    expect(err?.trailers["streamgate-reason"]).toBe("slow-consumer");
    expect(err?.message).toMatch(/fell behind the retention window/);
    expect(err?.message).toMatch(/not resumed: retention removed events this subscription had not received, so resuming would fail/);
    expect(reconnects).toEqual([]);
    expect(await sub.closed).toBe(err);
    // Everything the server delivered reached the loop, as an unbroken prefix of the burst.
    expect(got.length).toBeLessThan(500);
    expect(got.map((e) => e.cursor)).toEqual(cursors.slice(0, got.length));
    const lastDelivered = err?.trailers["streamgate-last-cursor"];
    if (lastDelivered) expect(sub.lastCursor).toBe(lastDelivered);

    // Why retrying would not help: resuming from where the loop stands is refused.
    const resumed = t.client.eventStream({ cursor: sub.lastCursor as string, resume: false });
    const refused = await resumed.closed;
    expect(refused?.code).toBe(Code.OUT_OF_RANGE);
  });
});
