// The server SIGKILLed while producers publish through the SDK and subscribers
// read: publishes whose answer died with the server are retried by the SDK with
// the same idempotency keys (stored once, answered with the first cursor), and
// subscribers resume from their last cursor. Every acknowledged event is stored
// once and reaches every subscriber once, in order.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { createClient, type Event } from "../../client-sdk/src/index.js";
import { tenantKeys } from "../../server/redis/layout.js";
import { freePort } from "../../server/redis/localRedis.js";
import { redisUrl, waitFor } from "../helpers.js";
import { killed, spawnServer } from "../spawnServer.js";
import { collect, keepResuming, startProducers, storedSeqs } from "./harness.js";
import { clean, Ledger } from "./ledger.js";

describe("server SIGKILL while the SDK publishes and subscribes", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  it("every acknowledged event is stored once and every subscriber gets each once, in order", async () => {
    const port = await freePort();
    const keyPrefix = `rel-${randomUUID()}`;
    const env = {
      REDIS_URL: redisUrl(),
      STREAMGATE_LISTEN: `127.0.0.1:${port}`,
      STREAMGATE_KEY_PREFIX: keyPrefix,
      STREAMGATE_METRICS_LISTEN: "off",
      STREAMGATE_LOG_LEVEL: "info", // spawnServer waits for the "listening" line
      STREAMGATE_FEED_LINGER_MS: "0",
    };
    let server = await spawnServer(env);
    cleanups.push(() => killed(server));
    const redis = new Redis(redisUrl());
    const address = `127.0.0.1:${port}`;
    const consumers = [createClient({ address }), createClient({ address, protocol: "kumiho" })];
    const producer = createClient({ address });
    cleanups.push(() => {
      for (const c of [...consumers, producer]) c.close();
      redis.disconnect();
    });
    const subs = consumers.map((c) => c.eventStream({ resume: keepResuming }));
    await Promise.all(subs.map((s) => s.ready));
    const received: Event[][] = subs.map(() => []);
    const loops = subs.map((s, i) => collect(s, received[i] as Event[]));

    const ledger = new Ledger();
    const singles = startProducers(producer, ledger, { concurrency: 4, batch: 1, total: 1500 });
    const batches = startProducers(producer, ledger, { concurrency: 2, batch: 25, total: 1500 });
    const kills = 3;
    for (let n = 1; n <= kills; n++) {
      await waitFor(() => ledger.acked.size >= n * 600, `${n * 600} acknowledged events`, 60_000);
      await killed(server);
      server = await spawnServer(env);
    }
    await Promise.all([singles.done, batches.done]);
    expect([...singles.failures, ...batches.failures]).toEqual([]);

    await waitFor(() => received.every((r) => r.length >= ledger.acked.size), "every acknowledged event at every subscriber", 30_000);
    const verdict = ledger.verdict(received, await storedSeqs(redis, tenantKeys(keyPrefix, "default").events));
    expect(verdict).toEqual(clean(verdict, subs.length));
    expect(verdict.acknowledged).toBe(3000);
    console.info(
      `server SIGKILL: ${verdict.acknowledged} events checked at ${subs.length} subscribers, ${kills} kills: lost 0, duplicated 0`,
    );
    for (const s of subs) s.close();
    expect(await Promise.all(loops)).toEqual([undefined, undefined]);
  });
});
