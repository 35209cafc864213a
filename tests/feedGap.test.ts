import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, type Event, type StreamgateClientError } from "../client-sdk/src/index.js";
import { counters } from "../server/observability/counters.js";
import { defaultTiers, type Tier } from "../server/tenancy/tiers.js";
import { event, startTestServer, type TestServer } from "./helpers.js";

describe("retention overtaking the shared reader", () => {
  let t: TestServer;
  beforeAll(async () => {
    const tier: Tier = { ...(defaultTiers.creator as Tier), name: "tiny", maxBufferSize: 50 };
    // Small reads, so the reader is still working through the burst when retention trims it.
    t = await startTestServer({ readBatch: 10 }, () => ({ tenantId: "tiny-tenant", tier }));
  });
  afterAll(async () => {
    await t.close();
  });

  it("ends live subscribers that missed trimmed events with RESOURCE_EXHAUSTED instead of skipping them", async () => {
    const sub = t.client.eventStream({ resume: false });
    await sub.ready;
    const got: Event[] = [];
    const loop = (async () => {
      for await (const e of sub) got.push(e);
    })().then(
      () => undefined,
      (e: unknown) => e as StreamgateClientError,
    );
    const before = counters.feedGaps;
    const cursors = await t.client.publishBatch(Array.from({ length: 500 }, (_, i) => event(i)));
    const err = await loop;
    expect(err?.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(err?.message).toMatch(/fell behind the retention window/);
    expect(err?.trailers["streamgate-reason"]).toBe("slow-consumer");
    expect(counters.feedGaps).toBeGreaterThan(before);
    // What it did receive is an unbroken prefix of the burst: nothing skipped silently.
    expect(got.map((e) => e.cursor)).toEqual(cursors.slice(0, got.length));
    expect(got.length).toBeLessThan(500);
  });
});
