// Redis paused (SIGSTOP) or the network to it stalled: every publish fails with
// UNAVAILABLE within STREAMGATE_REDIS_TIMEOUT_MS instead of waiting for as long
// as Redis is stuck, health says NOT_SERVING, the bytes held by waiting
// publishes stay within their budget, and producers that keep publishing through
// the stall (the SDK retries with the same idempotency keys) end with every
// event stored once, although appends that timed out ran once Redis resumed.
import { mkdtempSync, rmSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, type Event, type StreamgateClient, StreamgateClientError } from "../../client-sdk/src/index.js";
import { type LocalRedis, startLocalRedis } from "../../server/redis/localRedis.js";
import { waitFor } from "../helpers.js";
import { type FaultProxy, startFaultProxy } from "./faultProxy.js";
import { collect, keepResuming, numbered, type RelServer, startProducers, startServerOn, storedSeqs } from "./harness.js";
import { clean, Ledger } from "./ledger.js";

let dir: string;
let redis: LocalRedis;
let proxy: FaultProxy;
let admin: Redis;
let server: RelServer;
let clients: StreamgateClient[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sg-stall-"));
  redis = await startLocalRedis({ dataDir: dir, appendOnly: false });
  proxy = await startFaultProxy(redis.port);
  admin = new Redis(redis.url);
  server = await startServerOn(proxy.url, { redisTimeoutMs: 500, healthIntervalMs: 200, healthTimeoutMs: 200 });
});

afterEach(() => {
  proxy.resume();
  redis.process.kill("SIGCONT");
  for (const c of clients) c.close();
  clients = [];
});

afterAll(async () => {
  await server.app.close(2000);
  admin.disconnect();
  await proxy.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

function client(opts: Parameters<typeof createClient>[0] = { address: server.app.address }): StreamgateClient {
  const c = createClient(opts);
  clients.push(c);
  return c;
}

const faults = {
  "Redis paused (SIGSTOP)": { stop: () => redis.process.kill("SIGSTOP"), resume: () => redis.process.kill("SIGCONT") },
  "the network to Redis stalled": { stop: () => proxy.stall(), resume: () => proxy.resume() },
};

describe.each(Object.entries(faults))("%s", (_name, fault) => {
  it("a publish fails with UNAVAILABLE while it lasts, saying what a retry does; health says NOT_SERVING", async () => {
    const c = client({ address: server.app.address, publishRetry: false });
    await c.publish(numbered(-1)); // the connections are up
    fault.stop();
    // Settling at all while the fault lasts (it lasts until resume()) is the bound.
    const err = (await c.publish(numbered(-2)).catch((e: unknown) => e)) as StreamgateClientError;
    expect(err).toBeInstanceOf(StreamgateClientError);
    expect(err.code).toBe(Code.UNAVAILABLE);
    expect(err.message).toMatch(/may or may not have been stored.*retry with the same idempotency keys/);
    expect(err.trailers["retry-after-ms"]).toBeDefined();
    await waitFor(async () => (await c.health()) === "NOT_SERVING", "health to report NOT_SERVING");
    fault.resume();
    await waitFor(async () => (await c.health()) === "SERVING", "health to report SERVING again");
  });

  it("producers publishing through it end with every event stored once, and every subscriber gets each once", async () => {
    await admin.del(server.stream);
    const subs = [
      client().eventStream({ resume: keepResuming }),
      client({ address: server.app.address, protocol: "kumiho" }).eventStream({ resume: keepResuming }),
    ];
    await Promise.all(subs.map((s) => s.ready));
    const received: Event[][] = subs.map(() => []);
    const loops = subs.map((s, i) => collect(s, received[i] as Event[]));
    const ledger = new Ledger();
    const producers = startProducers(client(), ledger, { concurrency: 4, batch: 5, total: 1500 });
    await waitFor(() => ledger.acked.size >= 300, "events before the fault");
    fault.stop();
    // Publishes time out meanwhile: wait until the server has refused some (the SDK retries them).
    const probe = client({ address: server.app.address, publishRetry: false });
    await expect(probe.publish(numbered(-3))).rejects.toMatchObject({ code: Code.UNAVAILABLE });
    const acknowledgedDuringFault = ledger.acked.size;
    fault.resume();
    await producers.done;
    expect(producers.failures).toEqual([]);
    await waitFor(() => received.every((r) => r.length >= ledger.acked.size), "every acknowledged event at every subscriber", 30_000);
    // The probe's own event may have been stored (its append ran once Redis resumed): not part of the ledger.
    const stored = (await storedSeqs(admin, server.stream)).filter((s) => s >= 0);
    const verdict = ledger.verdict(
      received.map((r) => r.filter((e) => Number(e.details.seq) >= 0)),
      stored,
    );
    expect(verdict).toEqual(clean(verdict, subs.length));
    expect(verdict.acknowledged).toBe(1500);
    expect(acknowledgedDuringFault).toBeLessThan(1500);
    console.info(`stall (${_name}): ${verdict.acknowledged} events checked at ${subs.length} subscribers: lost 0, duplicated 0`);
    for (const s of subs) s.close();
    await Promise.all(loops);
  });
});

describe("publishes waiting for a stuck Redis", () => {
  it("hold at most STREAMGATE_PUBLISH_INFLIGHT_BYTES however long it lasts: past it, UNAVAILABLE with retry-after-ms at once", async () => {
    const budget = 1_048_576;
    const small = await startServerOn(proxy.url, { redisTimeoutMs: 300, publishInflightBytes: budget });
    try {
      const c = client({ address: small.app.address, publishRetry: false });
      await c.publish(numbered(-1));
      proxy.stall();
      // Batches of ~280 KB from four producers, again and again while the network is stalled: what waits
      // for Redis (counted, and in the writer's socket) stays within the budget, commands that timed out
      // do not pile up, and publishes over the budget are refused before anything is sent.
      const big = () =>
        Array.from({ length: 5 }, () => ({
          ...numbered(-2),
          details: { seq: "-2", ...Object.fromEntries(Array.from({ length: 8 }, (_, k) => [`pad${k}`, "x".repeat(7000)])) },
        }));
      let most = 0;
      let mostBuffered = 0;
      const errors: StreamgateClientError[] = [];
      const sample = () => {
        most = Math.max(most, small.app.writer.waitingBytes);
        const socket = small.app.writer.redis.stream as Socket | undefined;
        mostBuffered = Math.max(mostBuffered, socket?.writableLength ?? 0);
      };
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (errors.length < 60) {
            sample();
            errors.push((await c.publishBatch(big()).catch((e: unknown) => e)) as StreamgateClientError);
            sample();
          }
        }),
      );
      expect(most).toBeLessThanOrEqual(budget);
      expect(mostBuffered).toBeLessThanOrEqual(budget);
      for (const err of errors) expect(err.code).toBe(Code.UNAVAILABLE);
      const refused = errors.filter((e) => /STREAMGATE_PUBLISH_INFLIGHT_BYTES/.test(e.message));
      expect(refused.length).toBeGreaterThan(0);
      for (const err of refused) expect(Number(err.trailers["retry-after-ms"])).toBeGreaterThan(0);
      proxy.resume();
      await waitFor(
        async () =>
          await c.publish(numbered(-3)).then(
            () => true,
            () => false,
          ),
        "publishing to work again",
      );
      // The publishes that timed out were dropped with their connection, not delivered once the network
      // came back (possibly after the duplicate window): none of them is in the stream.
      expect((await storedSeqs(admin, small.stream)).filter((seq) => seq === -2)).toEqual([]);
    } finally {
      await small.app.close(2000);
    }
  });
});
