import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { appendEvents } from "../server/events/appendEvents.js";
import { toStreamFields } from "../server/events/storedEvent.js";
import type { NewEvent } from "../server/events/validateEvent.js";
import { withCommands } from "../server/redis/commands.js";
import { tenantKeys } from "../server/redis/layout.js";
import { idOf, redisUrl, startTestServer } from "./helpers.js";

const redis = withCommands(new Redis(redisUrl()));
afterAll(() => redis.disconnect());

describe("appending a batch (appendEvents.lua)", () => {
  it("writes each event with exactly the documented fields a single publish writes, in order", async () => {
    const keys = tenantKeys(`test-${randomUUID()}`, "t");
    const events = [0, 1, 2, 3, 4, 5, 6, 7].map(
      (mask): NewEvent => ({
        routingKey: `batch.m${mask}`,
        kref: `kref://p/s/e${mask}.k`,
        author: mask & 1 ? "ann" : "",
        username: mask & 2 ? "ann@x" : "",
        details: mask & 4 ? { k: `v${mask}`, 'q"uote': "a\nb" } : ({} as Record<string, string>),
      }),
    );
    const { ids } = await appendEvents(redis, keys, events, 60_000);
    const entries = (await redis.xrange(keys.events, "-", "+")) as [string, string[]][];
    expect(entries.map(([id]) => id)).toEqual(ids);
    expect(entries.map(([, fields]) => fields)).toEqual(events.map(toStreamFields));
  });
});

describe("PublishBatch over gRPC", () => {
  it("stores every event exactly as a single Publish would, escapes and non-ASCII included", async () => {
    const t = await startTestServer();
    try {
      const events: NewEvent[] = [
        {
          routingKey: "a.b",
          kref: "kref://p/s/x.y?r=2",
          author: "ünï",
          username: "u",
          details: { q: 'say "hi"\n\\', "k€y": "😀", "2": "num-like key" },
        },
        { routingKey: "c", kref: "kref://p", author: "", username: "", details: {} },
        { routingKey: "d.e", kref: "kref://p/x.y", author: "bench", username: "", details: { seq: "1", t: "1.5" } },
      ];
      const cursors = await t.client.publishBatch(events);
      const entries = (await t.redis.xrange(tenantKeys(t.config.keyPrefix, t.config.tenant).events, "-", "+")) as [string, string[]][];
      expect(entries.map(([id]) => id)).toEqual(cursors.map(idOf));
      expect(entries.map(([, f]) => f)).toEqual(events.map(toStreamFields));
    } finally {
      await t.close();
    }
  });
});
