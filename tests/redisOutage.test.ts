import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, type StreamgateClient, type StreamgateClientError } from "../client-sdk/src/index.js";
import { type Streamgate, startStreamgate } from "../server/app.js";
import { loadConfig } from "../server/config/loadConfig.js";
import { createLogger } from "../server/observability/logger.js";
import { type LocalRedis, startLocalRedis } from "../server/redis/localRedis.js";
import { event, take } from "./helpers.js";

// A Redis of its own, stopped and restarted on the same port (AOF on, so data survives).
let redis: LocalRedis;
let dir: string;
let app: Streamgate;
let client: StreamgateClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sg-outage-"));
  redis = await startLocalRedis({ dataDir: dir, appendOnly: true });
  const config = loadConfig({}, { listen: "127.0.0.1:0", metricsListen: "off", keyPrefix: "outage" });
  app = await startStreamgate({ config, log: createLogger("silent"), redisUrl: redis.url });
  client = createClient({ address: app.address });
});

afterAll(async () => {
  client.close();
  await app.close(2000);
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("when Redis is down", () => {
  it("publish and subscribe fail with UNAVAILABLE, then work again once Redis is back, with nothing lost", async () => {
    const before = await client.publish(event(1));
    await redis.stop();

    // The client retries (same idempotency key) for as long as the publish's timeout, then gives up.
    const pubErr = (await client.publish(event(2), { timeoutMs: 1000 }).catch((e: unknown) => e)) as StreamgateClientError;
    expect(pubErr.code).toBe(Code.UNAVAILABLE);
    expect(pubErr.message).toMatch(/Redis is unavailable; nothing was stored.*gave up after \d+ attempts/);
    const subErr = (await take(client.eventStream({ cursor: before, resume: false }), 1).catch((e: unknown) => e)) as StreamgateClientError;
    expect(subErr.code).toBe(Code.UNAVAILABLE);

    redis = await startLocalRedis({ dataDir: dir, appendOnly: true, port: redis.port });
    let after: string | undefined;
    for (let i = 0; i < 100 && !after; i++) {
      after = await client.publish(event(3)).catch(() => undefined);
      if (!after) await new Promise((r) => setTimeout(r, 100));
    }
    const got = await take(client.eventStream({ fromBeginning: true }), 2);
    expect(got.map((e) => e.cursor)).toEqual([before, after]);
  });
});
