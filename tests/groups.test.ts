import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, type GroupConsumer, type GroupDelivery, type StreamgateClientError } from "../client-sdk/src/index.js";
import { counters } from "../server/observability/counters.js";
import { withCommands } from "../server/redis/commands.js";
import { tenantKeys } from "../server/redis/layout.js";
import { compareIds } from "../server/redis/streamIds.js";
import { defaultTiers, type Tier } from "../server/tenancy/tiers.js";
import { drainCall, event, rawKumihoClient, startTestServer, type TestServer, waitFor } from "./helpers.js";

/** Iterates a consumer in the background, handing each delivery to `handle`. */
function run(consumer: GroupConsumer, handle: (d: GroupDelivery) => void): Promise<unknown> {
  return (async () => {
    for await (const d of consumer) handle(d);
  })().catch((e: unknown) => e);
}

async function publishMany(t: TestServer, n: number, routingKey = "job.created"): Promise<string[]> {
  const cursors: string[] = [];
  for (let i = 0; i < n; i += 100) {
    cursors.push(...(await t.client.publishBatch(Array.from({ length: Math.min(100, n - i) }, (_, j) => event(i + j, routingKey)))));
  }
  return cursors;
}

describe("consumer groups", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ groupClaimIntervalMs: 50 });
  });
  afterAll(async () => {
    await t.close();
  });

  it("3 members share 3,000 events: each processed by exactly one member, split roughly evenly", async () => {
    const got = new Map<string, string[]>();
    const consumers = ["a", "b", "c"].map((m) =>
      t.client.consume({ group: "share", member: m, routingKeyFilter: "job.*", maxInFlight: 50 }),
    );
    await Promise.all(consumers.map((c) => c.joined));
    const loops = consumers.map((c, i) => {
      const mine: string[] = [];
      got.set(["a", "b", "c"][i] as string, mine);
      return run(c, (d) => {
        mine.push(d.event.cursor);
        d.ack();
      });
    });
    const cursors = await publishMany(t, 3000);
    await waitFor(() => [...got.values()].reduce((n, l) => n + l.length, 0) >= 3000, "all events processed", 30_000);
    const all = [...got.values()].flat();
    expect(new Set(all).size).toBe(3000);
    expect(all.length).toBe(3000);
    expect([...all].sort()).toEqual([...cursors].sort());
    for (const [member, list] of got) {
      expect(list.length, `member ${member}`).toBeGreaterThanOrEqual(600); // at least 20% each
      // Each member sees its share in stream order.
      expect([...list].sort(compareIds)).toEqual(list);
    }
    await waitFor(async () => (await t.client.groups.describe("share")).pending === 0, "acks to land");
    for (const c of consumers) c.close();
    await Promise.all(loops);
  });

  it("events a killed member never acknowledged go to a survivor after the ack timeout; nothing is lost", async () => {
    const acked = new Set<string>();
    const crashing = new AbortController();
    const doomed = t.client.consume({ group: "failover", member: "doomed", ackTimeoutMs: 400, maxInFlight: 20, signal: crashing.signal });
    await doomed.joined;
    let doomedGot = 0;
    const doomedLoop = run(doomed, () => {
      doomedGot++; // takes events and never acknowledges them
    });
    const cursors = await publishMany(t, 200);
    await waitFor(() => doomedGot >= 20, "the doomed member to hold deliveries");
    crashing.abort(); // the member dies holding unacknowledged deliveries
    expect(await doomedLoop).toMatchObject({ name: "AbortError" });

    const survivor = t.client.consume({ group: "failover", member: "survivor" });
    const redelivered: number[] = [];
    const loop = run(survivor, (d) => {
      if (d.deliveryCount > 1) redelivered.push(d.deliveryCount);
      acked.add(d.event.cursor);
      d.ack();
    });
    await waitFor(() => acked.size === 200, "every event acknowledged by the survivor", 20_000);
    expect([...acked].sort()).toEqual([...cursors].sort());
    expect(redelivered.length).toBeGreaterThanOrEqual(20);
    survivor.close();
    await loop;
  });

  it("an event whose handler always fails lands in the dead-letter stream after max_deliveries; replay brings it back", async () => {
    const before = counters.deadLettered;
    const failing = t.client.consume({ group: "dlq", member: "f", routingKeyFilter: "job.poison", maxDeliveries: 3, ackTimeoutMs: 300 });
    await failing.joined;
    const deliveries: number[] = [];
    const loop = run(failing, (d) => {
      deliveries.push(d.deliveryCount);
      d.nack(`boom #${d.deliveryCount}`);
    });
    const [poison] = await t.client.publishBatch([event(1, "job.poison")]);
    await waitFor(async () => (await t.client.groups.describe("dlq")).deadLetters === 1, "the dead letter", 15_000);
    expect(deliveries).toEqual([1, 2, 3]);
    expect(counters.deadLettered - before).toBe(1);
    failing.close();
    await loop;

    const [dead] = await t.client.groups.deadLetters("dlq");
    expect(dead).toMatchObject({ reason: "max_deliveries_exceeded", error: "boom #3", deliveryCount: 3, originalCursor: poison });
    expect(dead?.event?.routingKey).toBe("job.poison");
    expect(dead?.event?.cursor).toBe(poison);

    expect(await t.client.groups.replayDeadLetters("dlq")).toBe(1);
    expect((await t.client.groups.describe("dlq")).deadLetters).toBe(0);
    const healthy = t.client.consume({ group: "dlq", member: "h", routingKeyFilter: "job.poison" });
    const replayed: GroupDelivery[] = [];
    const loop2 = run(healthy, (d) => {
      replayed.push(d);
      d.ack();
    });
    await waitFor(() => replayed.length === 1, "the replayed event");
    expect(replayed[0]?.event.cursor).toBe(poison);
    expect(replayed[0]?.deliveryId).toMatch(/^r\//);
    await waitFor(async () => (await t.client.groups.describe("dlq")).pending === 0, "the ack of the replayed event");
    healthy.close();
    await loop2;
  });

  it("dead letters can be purged", async () => {
    const failing = t.client.consume({ group: "purge", routingKeyFilter: "job.bad", maxDeliveries: 1, ackTimeoutMs: 200 });
    await failing.joined;
    const loop = run(failing, (d) => d.nack("nope"));
    await t.client.publishBatch([event(1, "job.bad"), event(2, "job.bad")]);
    await waitFor(async () => (await t.client.groups.describe("purge")).deadLetters === 2, "two dead letters", 15_000);
    const [first] = await t.client.groups.deadLetters("purge", { limit: 1 });
    expect(await t.client.groups.purgeDeadLetters("purge", [first?.id as string])).toBe(1);
    expect(await t.client.groups.purgeDeadLetters("purge")).toBe(1);
    expect(await t.client.groups.deadLetters("purge")).toEqual([]);
    failing.close();
    await loop;
  });

  it("pending entries whose events were trimmed are acknowledged and counted, and do not wedge the group", async () => {
    const first = t.client.consume({ group: "trimmed", member: "m1", routingKeyFilter: "job.trim", ackTimeoutMs: 200 });
    await first.joined;
    let held = 0;
    const ac = first;
    const loop = run(first, () => held++);
    await t.client.publishBatch(Array.from({ length: 5 }, (_, i) => event(i, "job.trim")));
    await waitFor(() => held === 5, "five unacknowledged deliveries");
    ac.close();
    await loop;
    const keys = tenantKeys(t.config.keyPrefix, "default");
    await withCommands(t.redis).sgTrim(keys.events, keys.trimmed, 0, "0-0", 0);
    const before = counters.trimmedPending;

    const next = t.client.consume({ group: "trimmed", member: "m2", routingKeyFilter: "job.trim" });
    const got: string[] = [];
    const loop2 = run(next, (d) => {
      got.push(d.event.cursor);
      d.ack();
    });
    await waitFor(async () => (await t.client.groups.describe("trimmed")).pending === 0, "trimmed pending entries to clear", 10_000);
    expect(counters.trimmedPending - before).toBe(5);
    const [fresh] = await t.client.publishBatch([event(9, "job.trim")]);
    await waitFor(() => got.includes(fresh as string), "a new event after the trim");
    expect(got).toEqual([fresh]);
    next.close();
    await loop2;
  });

  it("a member reconnecting under its name gets its own unacknowledged events back before new ones", async () => {
    const c1 = t.client.consume({ group: "rejoin", member: "worker-1", routingKeyFilter: "job.re" });
    await c1.joined;
    const held: string[] = [];
    const loop = run(c1, (d) => held.push(d.event.cursor));
    const old = await t.client.publishBatch([event(1, "job.re"), event(2, "job.re")]);
    await waitFor(() => held.length === 2, "two deliveries");
    c1.close();
    await loop;
    const fresh = await t.client.publishBatch([event(3, "job.re")]);

    const c2 = t.client.consume({ group: "rejoin", member: "worker-1", routingKeyFilter: "job.re" });
    const got: GroupDelivery[] = [];
    const loop2 = run(c2, (d) => {
      got.push(d);
      d.ack();
    });
    await waitFor(() => got.length === 3, "own pending plus the new event");
    expect(got.map((d) => d.event.cursor)).toEqual([...old, ...fresh]);
    expect(got.map((d) => d.deliveryCount)).toEqual([2, 2, 1]);
    c2.close();
    await loop2;
  });

  it("a member joining with different filters gets FAILED_PRECONDITION", async () => {
    const a = t.client.consume({ group: "fixed", routingKeyFilter: "job.*" });
    await a.joined;
    const b = t.client.consume({ group: "fixed", routingKeyFilter: "other.*" });
    const err = (await b.joined.catch((e: unknown) => e)) as StreamgateClientError;
    expect(err.code).toBe(Code.FAILED_PRECONDITION);
    expect(err.message).toMatch(/created with routing_key_filter "job\.\*"/);
    a.close();
  });

  it.each([
    ["bad name!", /group name "bad name!"/],
    ["{other}", /must be 1-64 characters/],
  ])("refuses group name %j with INVALID_ARGUMENT", async (group, message) => {
    const err = (await t.client.consume({ group }).joined.catch((e: unknown) => e)) as StreamgateClientError;
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.message).toMatch(message);
  });

  it("Kumiho clients join with consumer_group on EventStream: events split between them, each delivered once", async () => {
    const raws = [await rawKumihoClient(t.app.address), await rawKumihoClient(t.app.address)];
    const calls = raws.map((r) => r.EventStream({ consumerGroup: "kumiho-workers", routingKeyFilter: "job.k" }));
    await Promise.all(calls.map((c) => new Promise((res) => c.once("metadata", res))));
    const received = calls.map((c) => {
      const mine: string[] = [];
      c.on("data", (e: { cursor: string }) => mine.push(e.cursor));
      c.on("error", () => {});
      return mine;
    });
    // Small batches over time, so both members are waiting for work at some point.
    const cursors: string[] = [];
    for (let i = 0; i < 30; i++) {
      cursors.push(...(await t.client.publishBatch(Array.from({ length: 10 }, (_, j) => event(i * 10 + j, "job.k")))));
      await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor(() => received.flat().length >= 300, "every event at one of the clients", 15_000);
    await waitFor(async () => (await t.client.groups.describe("kumiho-workers")).pending === 0, "auto-acks");
    for (const c of calls) c.cancel();
    expect([...received.flat()].sort()).toEqual([...cursors].sort());
    for (const mine of received) expect(mine.length).toBeGreaterThan(0);
    for (const r of raws) r.close();
  });

  it("describes groups: members, pending, lag and dead letters", async () => {
    const own = await startTestServer(); // a stream of its own, so lag counts only this test's events
    const c = own.client.consume({ group: "intro", member: "solo", routingKeyFilter: "job.intro", maxInFlight: 2 });
    await c.joined;
    const loop = run(c, () => {});
    await own.client.publishBatch(Array.from({ length: 5 }, (_, i) => event(i, "job.intro")));
    await waitFor(async () => (await own.client.groups.describe("intro")).pending === 2, "two pending");
    const info = await own.client.groups.describe("intro");
    expect(info).toMatchObject({ group: "intro", routingKeyFilter: "job.intro", pending: 2, lag: 3, deadLetters: 0 });
    expect(info.members.map((m) => [m.name, m.pending])).toEqual([["solo", 2]]);
    expect((await own.client.groups.list()).map((g) => g.group)).toEqual(["intro"]);
    const missing = (await own.client.groups.describe("nope").catch((e: unknown) => e)) as StreamgateClientError;
    expect(missing.code).toBe(Code.NOT_FOUND);
    c.close();
    await loop;
    await own.close();
  });
});

describe("consumer groups on a tier without them", () => {
  let t: TestServer;
  beforeAll(async () => {
    const tier = defaultTiers.studio as Tier;
    t = await startTestServer({}, () => ({ tenantId: "studio-tenant", tier }));
  });
  afterAll(async () => {
    await t.close();
  });

  it("Consume, EventStream consumer_group and group admin calls get PERMISSION_DENIED naming the tier", async () => {
    const err = (await t.client.consume({ group: "g" }).joined.catch((e: unknown) => e)) as StreamgateClientError;
    expect(err.code).toBe(Code.PERMISSION_DENIED);
    expect(err.message).toMatch(/studio tier/);
    const raw = await rawKumihoClient(t.app.address);
    const { error } = await drainCall(raw.EventStream({ consumerGroup: "g" }));
    raw.close();
    expect(error?.code).toBe(Code.PERMISSION_DENIED);
    const admin = (await t.client.groups.list().catch((e: unknown) => e)) as StreamgateClientError;
    expect(admin.code).toBe(Code.PERMISSION_DENIED);
    expect((await t.client.getEventCapabilities()).supportsConsumerGroups).toBe(false);
  });
});
