// Auto-resume when the server process dies without a word: SIGKILL mid-stream (no UNAVAILABLE, no
// last-cursor trailer, just a dropped connection), then a new process on the same port.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { createClient } from "../../client-sdk/src/index.js";
import { tenantKeys } from "../../server/redis/layout.js";
import { freePort } from "../../server/redis/localRedis.js";
import { idOf, redisUrl, sleep, waitFor } from "../helpers.js";
import { killed, spawnServer } from "../spawnServer.js";
import { consume, startPublisher } from "./streamHelpers.js";

describe("auto-resume after the server process is killed", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  it("SIGKILL mid-stream, restart on the same port: every consumer's loop gets every event exactly once, in order", async () => {
    const port = await freePort();
    const keyPrefix = `test-${randomUUID()}`;
    const env = {
      REDIS_URL: redisUrl(),
      STREAMGATE_LISTEN: `127.0.0.1:${port}`,
      STREAMGATE_KEY_PREFIX: keyPrefix,
      STREAMGATE_METRICS_LISTEN: "off",
      STREAMGATE_LOG_LEVEL: "info",
      STREAMGATE_FEED_LINGER_MS: "0",
    };
    let server = await spawnServer(env);
    cleanups.push(() => killed(server));
    const redis = new Redis(redisUrl());
    const address = `127.0.0.1:${port}`;
    const consumers = [createClient({ address }), createClient({ address, protocol: "kumiho" })];
    const publisher = createClient({ address });
    cleanups.push(() => {
      for (const c of [...consumers, publisher]) c.close();
      redis.disconnect();
    });

    const subs = consumers.map((c) => c.eventStream({ resume: { initialDelayMs: 10, maxDelayMs: 200, maxAttempts: Infinity } }));
    await Promise.all(subs.map((s) => s.ready));
    const reconnects = subs.map(() => [] as string[]);
    for (const [i, s] of subs.entries()) {
      s.on("reconnect", (info) => {
        reconnects[i]?.push(info.error.codeName);
      });
    }
    const received: string[][] = subs.map(() => []);
    const loops = subs.map((s, i) => consume(s, received[i] as string[]));

    const pub = startPublisher(publisher);
    await waitFor(() => received.every((r) => r.length >= 50), "events before the kill");
    await killed(server); // no graceful end of the streams: the connections just drop
    await sleep(100); // attempts meanwhile fail with "connection refused"
    server = await spawnServer(env);
    const before = pub.published;
    await waitFor(() => pub.published >= before + 50, "publishing after the restart", 20_000);
    await pub.stop();

    const ids = (await redis.xrange(tenantKeys(keyPrefix, "default").events, "-", "+")).map(([id]) => id);
    await waitFor(() => received.every((r) => r.length >= ids.length), "every event at every consumer", 20_000);
    for (const r of received) expect(r.map(idOf)).toEqual(ids);
    for (const r of reconnects) expect(r[0]).toBe("UNAVAILABLE");
    for (const s of subs) s.close();
    expect(await Promise.all(loops)).toEqual([undefined, undefined]);
  });
});
