// What a member is handed and when: a reconnecting member takes back all of its
// own pending events before any new one, never holds more than max-in-flight,
// and a slow but live member keeps its deliveries until the ack timeout.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GroupConsumer, GroupDelivery } from "../client-sdk/src/index.js";
import { event, sleep, startTestServer, type TestServer, waitFor } from "./helpers.js";

/** Iterates a consumer in the background, handing each delivery to `handle`. */
function run(consumer: GroupConsumer, handle: (d: GroupDelivery) => void): Promise<unknown> {
  return (async () => {
    for await (const d of consumer) handle(d);
  })().catch((e: unknown) => e);
}

describe("consumer-group delivery bounds", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ groupClaimIntervalMs: 50 });
  });
  afterAll(async () => {
    await t.close();
  });

  it("a member rejoining with a smaller max-in-flight takes back all its own pending events before any new one", async () => {
    const crash = new AbortController();
    const first = t.client.consume({
      group: "takeback-all",
      member: "w1",
      routingKeyFilter: "job.tb",
      maxInFlight: 20,
      ackTimeoutMs: 60_000,
      signal: crash.signal,
    });
    await first.joined;
    let held = 0;
    const loop = run(first, () => held++);
    const old = await t.client.publishBatch(Array.from({ length: 20 }, (_, i) => event(i, "job.tb")));
    await waitFor(() => held === 20, "twenty held deliveries");
    crash.abort();
    await loop;
    const fresh = await t.client.publishBatch(Array.from({ length: 5 }, (_, i) => event(100 + i, "job.tb")));

    // Far below the 60 s ack timeout: only taking back its own entries can deliver the old ones this fast.
    const again = t.client.consume({ group: "takeback-all", member: "w1", routingKeyFilter: "job.tb", maxInFlight: 5 });
    const got: GroupDelivery[] = [];
    const loop2 = run(again, (d) => {
      got.push(d);
      d.ack();
    });
    await waitFor(() => got.length >= 25, "all 20 own pending events, then the 5 new ones");
    expect(got.map((d) => d.event.cursor)).toEqual([...old, ...fresh]);
    expect(got.map((d) => d.deliveryCount)).toEqual([...old.map(() => 2), ...fresh.map(() => 1)]);
    await waitFor(async () => (await t.client.groups.describe("takeback-all")).pending === 0, "every ack");
    again.close();
    await loop2;
  });

  it("a member with max-in-flight 1 never holds two deliveries, even with both new and replayed events waiting", async () => {
    // One dead letter replayed into the group's retry stream, and new events in the event stream.
    const failing = t.client.consume({
      group: "one-at-a-time",
      member: "f",
      routingKeyFilter: "job.one",
      maxDeliveries: 1,
      ackTimeoutMs: 60_000,
    });
    await failing.joined;
    const failLoop = run(failing, (d) => d.nack("broken"));
    const [poison] = await t.client.publishBatch([event(0, "job.one")]);
    await waitFor(async () => (await t.client.groups.describe("one-at-a-time")).deadLetters === 1, "the dead letter");
    failing.close();
    await failLoop;
    expect(await t.client.groups.replayDeadLetters("one-at-a-time")).toBe(1);
    const fresh = await t.client.publishBatch(Array.from({ length: 3 }, (_, i) => event(1 + i, "job.one")));

    const member = t.client.consume({ group: "one-at-a-time", member: "single", routingKeyFilter: "job.one", maxInFlight: 1 });
    const got: GroupDelivery[] = [];
    const loop = run(member, (d) => got.push(d));
    for (let i = 1; i <= 4; i++) {
      await waitFor(() => got.length >= i, `delivery ${i}`);
      await sleep(300); // time for a second delivery to show up, if the member were sent one
      expect(got.length, `held after delivery ${i}`).toBe(i);
      expect((await t.client.groups.describe("one-at-a-time")).pending).toBe(1);
      got[i - 1]?.ack();
    }
    expect(got.map((d) => d.event.cursor).sort()).toEqual([poison, ...fresh].sort());
    await waitFor(async () => (await t.client.groups.describe("one-at-a-time")).pending === 0, "the last ack");
    member.close();
    await loop;
  });

  it("a slow but live member keeps its deliveries until the ack timeout: another member does not take them over", async () => {
    const slow = t.client.consume({ group: "patient", member: "slow", routingKeyFilter: "job.slow", maxInFlight: 10, ackTimeoutMs: 2000 });
    await slow.joined;
    const slowGot: GroupDelivery[] = [];
    const slowLoop = run(slow, (d) => slowGot.push(d)); // acks only later, all at once
    const cursors = await t.client.publishBatch(Array.from({ length: 10 }, (_, i) => event(i, "job.slow")));
    await waitFor(() => slowGot.length === 10, "the slow member's ten deliveries");

    const other = t.client.consume({ group: "patient", member: "other", routingKeyFilter: "job.slow" });
    const otherGot: GroupDelivery[] = [];
    const otherLoop = run(other, (d) => {
      otherGot.push(d);
      d.ack();
    });
    await other.joined;
    await sleep(1200); // well within the 2 s ack timeout, and many claim intervals (50 ms)
    expect(otherGot).toEqual([]);
    for (const d of slowGot) d.ack();
    await waitFor(async () => (await t.client.groups.describe("patient")).pending === 0, "the slow member's acks");
    await sleep(1500); // past the ack timeout: nothing is left to take over
    expect(otherGot).toEqual([]);
    expect(slowGot.map((d) => d.event.cursor)).toEqual(cursors);
    expect(slowGot.every((d) => d.deliveryCount === 1)).toBe(true);
    slow.close();
    other.close();
    await Promise.all([slowLoop, otherLoop]);
  });
});
