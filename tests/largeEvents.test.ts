import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer, take } from "./helpers.js";

// Events near the 64 KiB cap: 200 of them are 11 MB, far over the 4 MiB a gRPC
// client accepts in one message, so batched frames must be cut by size.
const big = (i: number) => ({
  routingKey: "asset.published",
  kref: `kref://film/assets/a${i}.model?r=1`,
  details: Object.fromEntries(Array.from({ length: 7 }, (_, k) => [`blob${k}`, `${i}:`.padEnd(8000, "x")])),
});

describe("large events", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it("replay through the batched protocol delivers every one of 200 near-cap events", async () => {
    for (let i = 0; i < 200; i += 10) await t.client.publishBatch(Array.from({ length: 10 }, (_, k) => big(i + k)));
    const got = await take(t.client.eventStream({ fromBeginning: true, resume: false }), 200);
    expect(got.map((e) => e.details.blob0?.split(":")[0])).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
  });

  it("a live burst of near-cap events read in one go arrives whole", async () => {
    const sub = t.client.eventStream({ routingKeyFilter: "asset.*", resume: false });
    await sub.ready;
    const received = take(sub, 100);
    // Ten batches in flight at once: the shared reader picks up several in one read.
    await Promise.all(
      Array.from({ length: 10 }, (_, b) => t.client.publishBatch(Array.from({ length: 10 }, (_, k) => big(1000 + b * 10 + k)))),
    );
    const got = await received;
    expect(got).toHaveLength(100);
    expect(new Set(got.map((e) => e.cursor)).size).toBe(100);
  });
});
