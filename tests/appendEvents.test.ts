import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { appendEvents } from "../server/events/appendEvents.js";
import { toStreamFields } from "../server/events/storedEvent.js";
import type { NewEvent } from "../server/events/validateEvent.js";
import { withCommands } from "../server/redis/commands.js";
import { tenantKeys } from "../server/redis/layout.js";
import { redisUrl } from "./helpers.js";

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
    const ids = await appendEvents(redis, keys, events);
    const entries = (await redis.xrange(keys.events, "-", "+")) as [string, string[]][];
    expect(entries.map(([id]) => id)).toEqual(ids);
    expect(entries.map(([, fields]) => fields)).toEqual(events.map(toStreamFields));
  });
});
