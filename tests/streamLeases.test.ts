import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { withCommands } from "../server/redis/commands.js";
import { tenantKeys } from "../server/redis/layout.js";
import { redisUrl, startTestServer } from "./helpers.js";

const redis = withCommands(new Redis(redisUrl()));
afterAll(() => redis.disconnect());

describe("stream lease renewal (renewStreams.lua)", () => {
  it("extends every lease a replica holds, expired ones included, in a few commands however many there are", async () => {
    const key = `test-${randomUUID()}:{t}:streams`;
    const members = Array.from({ length: 10_000 }, (_, i) => `replica:${i}`);
    // Half the leases have already expired (score in the past), half are about to.
    await redis.zadd(key, ...members.flatMap((m, i) => [i % 2 ? Date.now() - 1000 : Date.now() + 100, m]));
    const before = Number((await redis.info("commandstats")).match(/cmdstat_zadd:calls=(\d+)/)?.[1] ?? 0);
    const renewed = await redis.sgRenewStreams(key, 30_000, ...members);
    const after = Number((await redis.info("commandstats")).match(/cmdstat_zadd:calls=(\d+)/)?.[1] ?? 0);
    expect(renewed).toBe(10_000);
    // One ZADD per lease would be 10,000 (other test files share this Redis, hence the margin).
    expect(after - before).toBeLessThan(1000);
    const soonest = await redis.zrange(key, 0, 0, "WITHSCORES");
    expect(Number(soonest[1])).toBeGreaterThan(Date.now() + 25_000);
    expect(await redis.zcard(key)).toBe(10_000);
    expect(await redis.pttl(key)).toBeGreaterThan(50_000);
  });
});

describe("stream leases by tier", () => {
  it("a tier without a concurrent-streams limit opens streams without taking a lease in Redis", async () => {
    const t = await startTestServer(); // auth none: the enterprise tier, unlimited streams
    try {
      const sub = t.client.eventStream({ resume: false });
      await sub.ready;
      expect(await t.redis.zcard(tenantKeys(t.config.keyPrefix, t.config.tenant).streams)).toBe(0);
      sub.close();
    } finally {
      await t.close();
    }
  });
});
