// Auto-resume over real restarts: the server process (in-process close + start
// on the same port) and the redis-server itself, while a publisher writes.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, connect as netConnect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { createClient } from "../../client-sdk/src/index.js";
import { type LocalRedis, startLocalRedis } from "../../server/redis/localRedis.js";
import { event, idOf, type RestartableServer, redisUrl, sleep, startRestartableServer, waitFor } from "../helpers.js";
import { consume, startPublisher } from "./streamHelpers.js";

const fastResume = { initialDelayMs: 10, maxDelayMs: 200, maxAttempts: Infinity };

/** A TCP proxy whose connections can be reset at once (RST), as a network failure would. */
async function startResettableProxy(targetPort: number) {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = netConnect(targetPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    resetAll() {
      for (const s of sockets) s.resetAndDestroy();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("auto-resume across restarts", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  /** `restart` may call `progress()` to wait until every consumer has received 20 more events. */
  async function restartScenario(server: RestartableServer, redis: Redis, restart: (progress: () => Promise<void>) => Promise<void>) {
    const consumers = [createClient({ address: server.address }), createClient({ address: server.address, protocol: "kumiho" })];
    const publisher = createClient({ address: server.address });
    cleanups.push(() => {
      for (const c of [...consumers, publisher]) c.close();
    });
    const subs = consumers.map((c) => c.eventStream({ resume: fastResume }));
    await Promise.all(subs.map((s) => s.ready));
    const reconnects = subs.map(() => 0);
    const resumed = subs.map(() => 0);
    subs.forEach((s, i) => {
      s.on("reconnect", () => reconnects[i]!++);
      s.on("resumed", () => resumed[i]!++);
    });
    const received: string[][] = subs.map(() => []);
    const loops = subs.map((s, i) => consume(s, received[i]!));

    const pub = startPublisher(publisher);
    await waitFor(() => received.every((r) => r.length >= 50), "events before the restart");
    await restart(async () => {
      const at = Math.max(...received.map((r) => r.length));
      await waitFor(() => received.every((r) => r.length >= at + 20), "events between restarts", 20_000);
    });
    const before = pub.published;
    await waitFor(() => pub.published >= before + 50, "publishing after the restart", 20_000);
    await pub.stop();

    const ids = (await redis.xrange(server.streamKey, "-", "+")).map(([id]) => id);
    await waitFor(() => received.every((r) => r.length >= ids.length), "every event at every consumer", 20_000);
    for (const r of received) expect(r.map(idOf)).toEqual(ids);
    for (const s of subs) s.close();
    expect(await Promise.all(loops)).toEqual([undefined, undefined]);
    return { reconnects, resumed };
  }

  it("a server restart mid-stream: every consumer's loop gets every event exactly once, in order", async () => {
    const server = await startRestartableServer();
    const redis = new Redis(redisUrl());
    cleanups.push(
      () => server.stop(),
      () => redis.disconnect(),
    );
    const { reconnects, resumed } = await restartScenario(server, redis, async () => {
      await server.stop();
      await sleep(100); // a real outage: attempts meanwhile fail with "connection refused"
      await server.start();
    });
    // Each consumer saw the break and came back (the server ended its stream with UNAVAILABLE).
    for (const n of reconnects) expect(n).toBeGreaterThan(0);
    for (const n of resumed) expect(n).toBe(1);
  });

  it("redis-server restarts mid-stream (alone, then with the server): every consumer's loop gets every event exactly once, in order", async () => {
    const dir = mkdtempSync(join(tmpdir(), "streamgate-resume-redis-"));
    let local: LocalRedis = await startLocalRedis({ dataDir: dir, appendOnly: true });
    const port = local.port;
    const server = await startRestartableServer(local.url);
    const redis = new Redis(local.url, { maxRetriesPerRequest: null });
    redis.on("error", () => {});
    cleanups.push(
      () => rmSync(dir, { recursive: true, force: true }),
      () => local.stop(),
      () => server.stop(),
      () => redis.disconnect(),
    );
    const restartRedis = async () => {
      await local.stop(); // SIGTERM: Redis writes its AOF before exiting
      await sleep(100);
      local = await startLocalRedis({ dataDir: dir, appendOnly: true, port });
    };
    const { reconnects } = await restartScenario(server, redis, async (progress) => {
      // Redis alone: the server's shared reader reconnects and publishes wait for Redis, so streams may stay up.
      await restartRedis();
      await progress();
      // The whole stack, as after a reboot: consumers resume from cursors that must survive in Redis's AOF.
      await server.stop();
      await restartRedis();
      await server.start();
    });
    for (const n of reconnects) expect(n).toBeGreaterThan(0);
  });

  it("a connection reset mid-stream (no status from the server): the loop gets every event exactly once, in order", async () => {
    const server = await startRestartableServer();
    const proxy = await startResettableProxy(server.app.port);
    const redis = new Redis(redisUrl());
    const consumer = createClient({ address: proxy.address });
    const publisher = createClient({ address: server.address });
    cleanups.push(
      () => server.stop(),
      () => proxy.close(),
      () => redis.disconnect(),
      () => consumer.close(),
      () => publisher.close(),
    );
    const sub = consumer.eventStream({ resume: fastResume });
    await sub.ready;
    const errors: string[] = [];
    sub.on("reconnect", (info) => errors.push(info.error.codeName));
    const received: string[] = [];
    const loop = consume(sub, received);
    const pub = startPublisher(publisher);
    await waitFor(() => received.length >= 50, "events before the reset");
    proxy.resetAll();
    await waitFor(() => errors.length > 0, "the reset to be noticed");
    const at = received.length;
    await waitFor(() => received.length >= at + 50, "events after the reset", 20_000);
    await pub.stop();
    const ids = (await redis.xrange(server.streamKey, "-", "+")).map(([id]) => id);
    await waitFor(() => received.length >= ids.length, "every event", 20_000);
    expect(received.map(idOf)).toEqual(ids);
    expect(errors[0]).toBe("UNAVAILABLE");
    sub.close();
    expect(await loop).toBeUndefined();
  });

  it("a live subscription with no event yet resumes from where it started: events written during the outage arrive", async () => {
    const server = await startRestartableServer();
    const redis = new Redis(redisUrl());
    const client = createClient({ address: server.address });
    cleanups.push(
      () => server.stop(),
      () => redis.disconnect(),
      () => client.close(),
    );
    const earlier = await client.publish(event(0));
    const sub = client.eventStream({ resume: fastResume });
    await sub.ready;
    // The server reported where the subscription started: right after the stream's last event.
    expect(sub.lastCursor).toBe(earlier);

    await server.stop();
    // Another producer writes straight to Redis while Streamgate is down.
    const written: string[] = [];
    for (let i = 1; i <= 3; i++) {
      written.push((await redis.xadd(server.streamKey, "*", "routing_key", "item.created", "kref", `kref://p/s/n${i}.k`)) as string);
    }
    await server.start();
    const got: string[] = [];
    for await (const e of sub) {
      got.push(idOf(e.cursor));
      if (got.length === written.length) break;
    }
    expect(got).toEqual(written);
  });

  it("with resume: false the loop ends with the server's UNAVAILABLE, carrying the last delivered cursor", async () => {
    const server = await startRestartableServer();
    const client = createClient({ address: server.address });
    cleanups.push(
      () => server.stop(),
      () => client.close(),
    );
    const sub = client.eventStream({ resume: false });
    await sub.ready;
    const cursor = await client.publish(event(1));
    const received: string[] = [];
    const loop = consume(sub, received);
    await waitFor(() => received.length === 1, "the event");
    await server.stop();
    const err = (await loop) as { codeName: string; trailers: Record<string, string> };
    expect(err.codeName).toBe("UNAVAILABLE");
    expect(err.trailers["streamgate-last-cursor"]).toBe(cursor);
    expect(await sub.closed).toBe(err);
  });

  it("gives up after maxAttempts reconnect attempts and throws the last error", async () => {
    const server = await startRestartableServer();
    const client = createClient({ address: server.address });
    cleanups.push(() => client.close());
    const sub = client.eventStream({ resume: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5 } });
    await sub.ready;
    const attempts: number[] = [];
    sub.on("reconnect", (info) => {
      attempts.push(info.attempt);
      expect(info.error.codeName).toBe("UNAVAILABLE");
    });
    await server.stop(); // and it never comes back
    const err = (await consume(sub, [])) as { codeName: string; message: string };
    expect(err.codeName).toBe("UNAVAILABLE");
    expect(err.message).toMatch(/gave up after 3 reconnect attempts/);
    expect(attempts).toEqual([1, 2, 3]);
  });
});
