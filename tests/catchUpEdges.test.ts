import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type StreamgateClient } from "../client-sdk/src/index.js";
import { type Streamgate, startStreamgate } from "../server/app.js";
import { loadConfig } from "../server/config/loadConfig.js";
import { createLogger } from "../server/observability/logger.js";
import { withCommands } from "../server/redis/commands.js";
import { tenantKeys } from "../server/redis/layout.js";
import { type LocalRedis, startLocalRedis } from "../server/redis/localRedis.js";
import { event, take } from "./helpers.js";

// A Redis of its own: these tests count XRANGE calls.
let redis: LocalRedis;
let dir: string;
let app: Streamgate;
let admin: Redis;
let client: StreamgateClient;

async function xrangeCalls(): Promise<number> {
  const m = /cmdstat_xrange:calls=(\d+)/.exec(await admin.info("commandstats"));
  return Number(m?.[1] ?? 0);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sg-edges-"));
  redis = await startLocalRedis({ dataDir: dir, appendOnly: false });
  admin = new Redis(redis.url);
  const config = loadConfig({}, { listen: "127.0.0.1:0", metricsListen: "off", keyPrefix: "edges", feedLingerMs: 60_000 });
  app = await startStreamgate({ config, log: createLogger("silent"), redisUrl: redis.url });
  client = createClient({ address: app.address });
});

afterAll(async () => {
  client.close();
  await app.close(2000);
  admin.disconnect();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("catch-up edge cases", () => {
  it("from_beginning on a stream whose events were all trimmed goes live without spinning on Redis", async () => {
    await client.publishBatch([event(1), event(2), event(3)]);
    const keys = tenantKeys("edges", "default");
    await withCommands(admin).sgTrim(keys.events, keys.trimmed, 0, "0-0", 0);
    expect(await admin.xlen(keys.events)).toBe(0);
    // A live subscriber keeps the shared feed up, positioned after the trimmed events.
    const live = client.eventStream();
    await live.ready;
    const before = await xrangeCalls();
    const sub = client.eventStream({ fromBeginning: true });
    await sub.ready;
    await new Promise((r) => setTimeout(r, 300));
    expect((await xrangeCalls()) - before).toBeLessThan(5);
    const next = await client.publish(event(4));
    expect((await take(sub, 1))[0]?.cursor).toBe(next);
    live.close();
  });

  it("from_timestamp after the last event delivers only events at or after that time", async () => {
    await client.publish(event(5));
    const live = client.eventStream();
    await live.ready;
    const at = new Date(Date.now() + 400);
    const before = await xrangeCalls();
    const sub = client.eventStream({ fromTimestamp: at });
    await sub.ready;
    const early = await client.publish(event(6));
    await new Promise((r) => setTimeout(r, 500));
    const late = await client.publish(event(7));
    const [got] = await take(sub, 1);
    expect(got?.cursor).toBe(late);
    expect(got?.cursor).not.toBe(early);
    expect((await xrangeCalls()) - before).toBeLessThan(5);
    live.close();
  });
});
