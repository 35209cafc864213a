import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type EventSubscription } from "../client-sdk/src/index.js";
import { type Streamgate, startStreamgate } from "../server/app.js";
import { loadConfig } from "../server/config/loadConfig.js";
import { createLogger } from "../server/observability/logger.js";
import { type LocalRedis, startLocalRedis } from "../server/redis/localRedis.js";
import { event, take, waitFor } from "./helpers.js";

// A Redis of its own: INFO commandstats must count only this file's commands.
let redis: LocalRedis;
let dir: string;
let app: Streamgate;
let admin: Redis;

/** Commands the read side issues (publishing's XADD/MULTI and retention's scripts are the same in every run). */
const READ_SIDE = new Set(["xread", "xrange", "xrevrange", "xinfo|stream", "get", "exists"]);

async function commandCount(): Promise<number> {
  const info = await admin.info("commandstats");
  let total = 0;
  for (const m of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) if (READ_SIDE.has(m[1] as string)) total += Number(m[2]);
  return total;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sg-fanout-"));
  redis = await startLocalRedis({ dataDir: dir, appendOnly: false });
  admin = new Redis(redis.url);
  const config = loadConfig({}, { listen: "127.0.0.1:0", metricsListen: "off", keyPrefix: "fanout", feedLingerMs: 60_000 });
  app = await startStreamgate({ config, log: createLogger("silent"), redisUrl: redis.url });
});

afterAll(async () => {
  await app.close(2000);
  admin.disconnect();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Opens n subscribers, publishes `count` events, and returns Redis commands spent per delivered event. */
async function run(n: number, count: number): Promise<{ perEvent: number; commands: number }> {
  const client = createClient({ address: app.address });
  const subs: EventSubscription[] = Array.from({ length: n }, () => client.eventStream({ routingKeyFilter: "revision.#" }));
  await Promise.all(subs.map((s) => s.ready));
  const receiving = subs.map((s) => take(s, count));
  const before = await commandCount();
  const cursors: string[] = [];
  for (let i = 0; i < count; i += 50) cursors.push(...(await client.publishBatch(Array.from({ length: 50 }, (_, j) => event(i + j)))));
  const results = await Promise.all(receiving);
  const commands = (await commandCount()) - before;
  for (const got of results) expect(got.map((e) => e.cursor)).toEqual(cursors);
  client.close();
  await waitFor(() => app.hub.subscriberCount === 0, "subscribers to be released");
  return { perEvent: commands / (n * count), commands };
}

describe("shared fan-out", () => {
  it("200 concurrent subscribers on one stream each get every event, and Redis commands do not grow with subscribers", async () => {
    const few = await run(10, 500);
    const many = await run(200, 500);
    // The read side is one shared read per batch (XREAD, and GETs of the trim marker and the epoch),
    // whatever the number of subscribers.
    expect(many.commands).toBeLessThanOrEqual(few.commands * 1.5 + 10);
    expect(many.commands).toBeLessThan(75);
    expect(many.perEvent).toBeLessThan(few.perEvent / 10);
    expect(app.hub.feedCount).toBe(1);
  });
});
