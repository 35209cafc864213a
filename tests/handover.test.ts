import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { event, startTestServer, type TestServer, take } from "./helpers.js";

describe("catch-up to live hand-over", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ readBatch: 50 });
  });
  afterAll(async () => {
    await t.close();
  });

  it("has no gap and no duplicate while a publisher writes concurrently", async () => {
    // History first, so catch-up takes many pages while the publisher keeps writing.
    const history = await t.client.publishBatch(Array.from({ length: 500 }, (_, i) => event(i)));
    const live: string[] = [];
    let stop = false;
    const publisher = (async () => {
      let i = 500;
      while (!stop && i < 1500) live.push(await t.client.publish(event(i++)));
    })();
    // Several subscribers join at different moments of the concurrent writing.
    const joined = [];
    for (let k = 0; k < 5; k++) {
      joined.push(take(t.client.eventStream({ fromBeginning: true }), 700 + k * 100));
      await new Promise((r) => setTimeout(r, 15));
    }
    const results = await Promise.all(joined);
    stop = true;
    await publisher;
    const all = [...history, ...live];
    results.forEach((got, k) => {
      expect(got.map((e) => e.cursor)).toEqual(all.slice(0, 700 + k * 100));
    });
  });

  it("a subscriber resuming from a cursor while events arrive gets them all in order", async () => {
    const base = await t.client.publish(event(0));
    const out: string[] = [];
    const publisher = (async () => {
      for (let i = 0; i < 300; i++) out.push(await t.client.publish(event(i)));
    })();
    await new Promise((r) => setTimeout(r, 10));
    const got = await take(t.client.eventStream({ cursor: base }), 300);
    await publisher;
    expect(got.map((e) => e.cursor)).toEqual(out);
  });
});
