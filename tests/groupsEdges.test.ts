// Consumer-group edge cases: reconnects over trimmed entries, deliveries before
// the loop starts, dead letters that fail again, cancelled joins, bad settings.
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, type StreamgateClientError } from "../client-sdk/src/index.js";
import { groupKeys, tenantKeys } from "../server/redis/layout.js";
import { defaultTiers, type Tier } from "../server/tenancy/tiers.js";
import { event, idOf, rawKumihoClient, startTestServer, type TestServer, waitFor } from "./helpers.js";

describe("consumer-group edge cases", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ groupClaimIntervalMs: 50 });
  });
  afterAll(async () => {
    await t.close();
  });

  it("a member rejoining with some of its pending events deleted takes back each remaining one exactly once", async () => {
    const crash = new AbortController();
    const first = t.client.consume({ group: "takeback", member: "m1", maxInFlight: 10, ackTimeoutMs: 60_000, signal: crash.signal });
    await first.joined;
    const held: string[] = [];
    const loop = (async () => {
      for await (const d of first) held.push(d.deliveryId);
    })().catch(() => undefined);
    const cursors = await t.client.publishBatch(Array.from({ length: 10 }, (_, i) => event(i)));
    await waitFor(() => held.length === 10, "ten held deliveries");
    crash.abort();
    await loop;
    await t.redis.xdel(groupKeys(t.config.keyPrefix, "default", "takeback").events, idOf(cursors[0] as string), idOf(cursors[1] as string));

    const again = t.client.consume({ group: "takeback", member: "m1", maxInFlight: 10, ackTimeoutMs: 60_000 });
    const got: { cursor: string; count: number }[] = [];
    const loop2 = (async () => {
      for await (const d of again) {
        got.push({ cursor: d.event.cursor, count: d.deliveryCount });
        d.ack();
      }
    })();
    await waitFor(() => got.length >= 8, "the eight remaining events");
    await sleep(300); // time for any duplicate to show up
    expect(got.map((g) => g.cursor)).toEqual(cursors.slice(2));
    expect(got.every((g) => g.count === 2)).toBe(true);
    expect(await t.client.groups.deadLetters("takeback")).toEqual([]);
    again.close();
    await loop2;
  });

  it("deliveries that arrive between `joined` and the start of the loop are not lost", async () => {
    const cursors = await t.client.publishBatch(Array.from({ length: 50 }, (_, i) => event(i, "backlog.item")));
    const c = t.client.consume({ group: "backlog", routingKeyFilter: "backlog.*", fromBeginning: true, ackTimeoutMs: 60_000 });
    await c.joined;
    await sleep(300); // the server delivers the backlog before anyone iterates
    const got: string[] = [];
    const loop = (async () => {
      for await (const d of c) {
        got.push(d.event.cursor);
        d.ack();
        if (got.length === 50) break;
      }
    })();
    await loop;
    expect(got).toEqual(cursors);
  });

  it("a replayed dead letter that fails again keeps the original event's cursor", async () => {
    const c = t.client.consume({ group: "twice", routingKeyFilter: "job.poison2", maxDeliveries: 1, ackTimeoutMs: 200 });
    await c.joined;
    const seen: string[] = [];
    const loop = (async () => {
      for await (const d of c) {
        seen.push(d.event.cursor);
        d.nack("still broken");
      }
    })();
    const [poison] = await t.client.publishBatch([event(1, "job.poison2")]);
    await waitFor(async () => (await t.client.groups.describe("twice")).deadLetters === 1, "the first dead letter");
    expect(await t.client.groups.replayDeadLetters("twice")).toBe(1);
    await waitFor(async () => seen.length === 2 && (await t.client.groups.describe("twice")).deadLetters === 1, "the second dead letter");
    const [dead] = await t.client.groups.deadLetters("twice");
    expect(dead?.originalCursor).toBe(poison);
    expect(dead?.event?.cursor).toBe(poison);
    expect(seen).toEqual([poison, poison]);
    c.close();
    await loop;
  });

  it("an ack that comes after the ack timeout still counts: the slow handler's event is not dead-lettered", async () => {
    const c = t.client.consume({ group: "late", routingKeyFilter: "job.slow", ackTimeoutMs: 300, maxDeliveries: 3 });
    await c.joined;
    const counts: number[] = [];
    const loop = (async () => {
      for await (const d of c) {
        counts.push(d.deliveryCount);
        setTimeout(d.ack, 450); // processing takes longer than the ack timeout
      }
    })();
    await t.client.publishBatch([event(1, "job.slow")]);
    await waitFor(async () => counts.length > 0 && (await t.client.groups.describe("late")).pending === 0, "the late ack to land", 10_000);
    await sleep(600);
    expect((await t.client.groups.describe("late")).pending).toBe(0);
    expect(await t.client.groups.deadLetters("late")).toEqual([]);
    expect(counts.length).toBeLessThan(3);
    c.close();
    await loop;
  });

  it.each([
    [{ ackTimeoutMs: 1 }, /ack_timeout_ms must be between 100 and/],
    [{ maxDeliveries: 5000 }, /max_deliveries must be at most 1000/],
  ])("refuses group settings %j with INVALID_ARGUMENT", async (settings, message) => {
    const err = (await t.client.consume({ group: "bad-settings", ...settings }).joined.catch((e: unknown) => e)) as StreamgateClientError;
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.message).toMatch(message);
  });
});

describe("cancelled joins", () => {
  let t: TestServer;
  const tier: Tier = { ...(defaultTiers.enterprise as Tier), name: "three-streams", maxConcurrentStreams: 3 };
  beforeAll(async () => {
    // A slow resolver, so the client can go away while its join is in flight.
    t = await startTestServer({}, async () => {
      await sleep(100);
      return { tenantId: "acme", tier };
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it("give their stream slots back", async () => {
    const raw = await rawKumihoClient(t.app.address);
    for (let i = 0; i < 3; i++) {
      const call = raw.EventStream({ consumerGroup: "slots" });
      call.on("error", () => {});
      await sleep(30);
      call.cancel();
    }
    await sleep(500);
    raw.close();
    expect(await t.redis.zcard(tenantKeys(t.config.keyPrefix, "acme").streams)).toBe(0);
    expect(t.app.members.size).toBe(0);
    // The tenant can still open its three streams.
    const subs = [t.client.eventStream(), t.client.eventStream(), t.client.eventStream()];
    await Promise.all(subs.map((s) => s.ready));
    for (const s of subs) s.close();
  });
});
