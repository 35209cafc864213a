import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Event } from "../client-sdk/src/index.js";
import { event, startTestServer, type TestServer } from "./helpers.js";

describe("resume from a cursor", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ readBatch: 64 }); // small pages: many catch-up hand-overs
  });
  afterAll(async () => {
    await t.close();
  });

  it("a subscriber that disconnects at random points and resumes from its last cursor receives each of 1,000 events exactly once, in order", async () => {
    const published: string[] = [];
    const publisher = (async () => {
      for (let i = 0; i < 1000; i += 20) {
        const batch = Array.from({ length: 20 }, (_, j) => event(i + j));
        published.push(...(await t.client.publishBatch(batch)));
        if (i % 100 === 0) await new Promise((r) => setTimeout(r, 2));
      }
    })();

    const seen: Event[] = [];
    let cursor: string | undefined;
    let reconnects = 0;
    // Deterministic pseudo-random disconnect points (1-60 events per connection).
    let seed = 42;
    const nextGap = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return 1 + (seed % 60);
    };
    const first = t.client.eventStream({ fromBeginning: true });
    let sub = first;
    while (seen.length < 1000) {
      const gap = nextGap();
      let n = 0;
      for await (const e of sub) {
        seen.push(e);
        cursor = e.cursor;
        if (++n >= gap || seen.length >= 1000) break;
      }
      if (seen.length < 1000) {
        reconnects++;
        sub = t.client.eventStream({ cursor });
      }
    }
    await publisher;
    expect(reconnects).toBeGreaterThan(10);
    expect(seen.map((e) => e.cursor)).toEqual(published);
    expect(seen.map((e) => e.details.i)).toEqual(published.map((_, i) => String(i)));
  });
});
