// Resets of the server's connections to Redis while producers publish at full
// speed. ioredis re-sends what was in flight when a connection broke; for an
// append that once meant storing events twice. Every acknowledged event must
// reach every subscriber exactly once, in order, and be stored once.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, type Event, StreamgateClientError } from "../../client-sdk/src/index.js";
import { type LocalRedis, startLocalRedis } from "../../server/redis/localRedis.js";
import { waitFor } from "../helpers.js";
import { type FaultProxy, startFaultProxy } from "./faultProxy.js";
import { collect, keepResuming, type RelServer, startProducers, startServerOn, storedSeqs } from "./harness.js";
import { clean, Ledger } from "./ledger.js";

let dir: string;
let redis: LocalRedis;
let proxy: FaultProxy;
let admin: Redis;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sg-resets-"));
  redis = await startLocalRedis({ dataDir: dir, appendOnly: false });
  // Replies arrive 2 ms late, so that resets lose replies to appends Redis has already made.
  proxy = await startFaultProxy(redis.port, 2);
  admin = new Redis(redis.url);
});

afterAll(async () => {
  admin.disconnect();
  await proxy.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Resets every server↔Redis connection each time `every` more events were acknowledged, `times` times. */
async function resetRepeatedly(ledger: Ledger, every: number, times: number): Promise<number> {
  for (let n = 1; n <= times; n++) {
    await waitFor(() => ledger.acked.size >= n * every, `${n * every} acknowledged events`, 30_000);
    proxy.resetAll();
  }
  return times;
}

describe("server↔Redis connection resets while publishing at full speed", () => {
  let server: RelServer;
  beforeAll(async () => {
    server = await startServerOn(proxy.url);
  });
  afterAll(async () => {
    await server.app.close(2000);
  });
  const stream = () => server.stream;

  it("with the SDK's idempotency keys: every acknowledged event is stored once and reaches every subscriber once, in order", async () => {
    const consumers = [createClient({ address: server.app.address }), createClient({ address: server.app.address, protocol: "kumiho" })];
    const producer = createClient({ address: server.app.address });
    try {
      const subs = consumers.map((c) => c.eventStream({ resume: keepResuming }));
      await Promise.all(subs.map((s) => s.ready));
      const received: Event[][] = subs.map(() => []);
      const loops = subs.map((s, i) => collect(s, received[i] as Event[]));

      const ledger = new Ledger();
      const total = 4000;
      const producers = startProducers(producer, ledger, { concurrency: 6, batch: 1, total: total / 2 });
      const batches = startProducers(producer, ledger, { concurrency: 4, batch: 20, total: total / 2 });
      const resets = await resetRepeatedly(ledger, 300, 8);
      await Promise.all([producers.done, batches.done]);
      expect([...producers.failures, ...batches.failures]).toEqual([]);

      await waitFor(() => received.every((r) => r.length >= ledger.acked.size), "every acknowledged event at every subscriber", 30_000);
      const verdict = ledger.verdict(received, await storedSeqs(admin, stream()));
      expect(verdict).toEqual(clean(verdict, subs.length));
      expect(verdict.acknowledged).toBe(total);
      console.info(`resets: ${verdict.acknowledged} events checked at ${subs.length} subscribers, ${resets} resets: lost 0, duplicated 0`);
      for (const s of subs) s.close();
      expect(await Promise.all(loops)).toEqual([undefined, undefined]);
    } finally {
      for (const c of [...consumers, producer]) c.close();
    }
  });

  it("without idempotency keys: an acknowledged event is stored once; a failed one at most once, and its error says so", async () => {
    const producer = createClient({ address: server.app.address, autoIdempotencyKeys: false });
    try {
      await admin.del(stream());
      const ledger = new Ledger();
      const producers = startProducers(producer, ledger, { concurrency: 8, batch: 1, total: 3000 });
      const resets = await resetRepeatedly(ledger, 250, 8);
      await producers.done;

      const stored = await storedSeqs(admin, stream());
      const verdict = ledger.verdict([], stored);
      expect(verdict.storedTwice).toBe(0);
      const storedSet = new Set(stored);
      for (const seq of ledger.acked.keys()) expect(storedSet.has(seq)).toBe(true);
      // Publishes without keys are not retried by the client: their failures reach the caller, as
      // UNAVAILABLE saying whether the event may have been stored. (There are some: the resets did
      // hit appends in flight.)
      expect(producers.failures.length).toBeGreaterThan(0);
      for (const err of producers.failures) {
        expect(err).toBeInstanceOf(StreamgateClientError);
        expect((err as StreamgateClientError).code).toBe(Code.UNAVAILABLE);
        expect((err as StreamgateClientError).message).toMatch(/may or may not have been stored|nothing was stored/);
      }
      console.info(
        `resets without keys: ${verdict.acknowledged} acknowledged, ${producers.failures.length} failed, ${resets} resets: stored twice 0`,
      );
    } finally {
      producer.close();
    }
  });
});
