// Replaying dead letters never loses one: whatever the dead-letter cap, every
// replayed event reaches the group, and one a member holds unacknowledged stays
// in the retry stream until it is acknowledged.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GroupConsumer, GroupDelivery } from "../client-sdk/src/index.js";
import { groupKeys } from "../server/redis/layout.js";
import { event, startTestServer, type TestServer, waitFor } from "./helpers.js";

/** Iterates a consumer in the background, handing each delivery to `handle`. */
function run(consumer: GroupConsumer, handle: (d: GroupDelivery) => void): Promise<unknown> {
  return (async () => {
    for await (const d of consumer) handle(d);
  })().catch((e: unknown) => e);
}

/** Publishes `n` events that a member failing every delivery turns into `n` dead letters; returns their cursors. */
async function deadLetters(t: TestServer, group: string, n: number): Promise<string[]> {
  // A nack makes a delivery claimable at once, so a long ack timeout does not slow this down; it keeps
  // the tests' held deliveries from being taken over.
  const failing = t.client.consume({ group, member: "failing", routingKeyFilter: "job.*", maxDeliveries: 2, ackTimeoutMs: 60_000 });
  await failing.joined;
  const loop = run(failing, (d) => d.nack("always fails"));
  const cursors: string[] = [];
  for (let i = 0; i < n; i += 50) {
    cursors.push(...(await t.client.publishBatch(Array.from({ length: Math.min(50, n - i) }, (_, j) => event(i + j, "job.bulk")))));
  }
  await waitFor(async () => (await t.client.groups.describe(group)).deadLetters === n, `${n} dead letters`, 30_000);
  failing.close();
  await loop;
  return cursors;
}

describe("replaying dead letters", () => {
  let big: TestServer;
  let small: TestServer;
  beforeAll(async () => {
    // Two servers on one key prefix: dead letters gathered under a large cap are replayed by a
    // server whose STREAMGATE_GROUP_DLQ_MAX_LEN is far smaller than the dead-letter stream.
    big = await startTestServer({ groupClaimIntervalMs: 50, groupDlqMaxLen: 100_000 });
    small = await startTestServer({ groupClaimIntervalMs: 50, groupDlqMaxLen: 10, keyPrefix: big.config.keyPrefix });
  });
  afterAll(async () => {
    await small.close();
    await big.close();
  });

  it("delivers every replayed dead letter, even 150 of them with a dead-letter cap of 10", async () => {
    const cursors = await deadLetters(big, "bulk", 150);
    expect(await small.client.groups.replayDeadLetters("bulk")).toBe(150);
    expect((await small.client.groups.describe("bulk")).deadLetters).toBe(0);

    const healthy = small.client.consume({ group: "bulk", member: "healthy", routingKeyFilter: "job.*", maxInFlight: 40 });
    const got: GroupDelivery[] = [];
    const loop = run(healthy, (d) => {
      got.push(d);
      d.ack();
    });
    await waitFor(() => got.length >= 150, "all 150 replayed events", 20_000);
    await waitFor(async () => (await small.client.groups.describe("bulk")).pending === 0, "their acks");
    expect(got.map((d) => d.event.cursor)).toEqual(cursors);
    expect(got.every((d) => d.deliveryId.startsWith("r/"))).toBe(true);
    expect(await small.client.groups.deadLetters("bulk")).toEqual([]);
    healthy.close();
    await loop;
  });

  it("keeps replayed events a member holds unacknowledged, and drops only acknowledged ones from the retry stream", async () => {
    const cursors = await deadLetters(big, "held", 150);
    expect(await small.client.groups.replayDeadLetters("held")).toBe(150);
    const retry = groupKeys(big.config.keyPrefix, "default", "held").retry;

    const crash = new AbortController();
    const holder = small.client.consume({
      group: "held",
      member: "holder",
      routingKeyFilter: "job.*",
      maxInFlight: 150,
      signal: crash.signal,
    });
    const got: GroupDelivery[] = [];
    const loop = run(holder, (d) => {
      got.push(d);
      if (got.length <= 100) d.ack(); // the last 50 stay unacknowledged
    });
    await waitFor(() => got.length === 150, "all 150 replayed events");
    await waitFor(async () => (await small.client.groups.describe("held")).pending === 50, "the first 100 acks");
    // Acknowledged replays leave the retry stream; the 50 held ones stay.
    await waitFor(async () => (await small.redis.xlen(retry)) === 50, "acknowledged entries trimmed from the retry stream");

    crash.abort(); // the holder dies with 50 unacknowledged deliveries
    await loop;

    // More dead letters replayed while those 50 are pending: nothing the group still needs is trimmed.
    const more = await deadLetters(big, "held", 20);
    expect(await small.client.groups.replayDeadLetters("held")).toBe(20);
    expect(await small.redis.xlen(retry)).toBe(70);

    const survivor = small.client.consume({ group: "held", member: "holder", routingKeyFilter: "job.*", maxInFlight: 150 });
    const again: GroupDelivery[] = [];
    const loop2 = run(survivor, (d) => {
      again.push(d);
      d.ack();
    });
    await waitFor(() => again.length >= 70, "the 50 held events and the 20 new replays");
    expect(again.map((d) => d.event.cursor)).toEqual([...cursors.slice(100), ...more]);
    expect(again.slice(0, 50).every((d) => d.deliveryCount === 2)).toBe(true);
    await waitFor(async () => (await small.client.groups.describe("held")).pending === 0, "their acks");
    await waitFor(async () => (await small.redis.xlen(retry)) <= 1, "the retry stream to empty once everything is acknowledged");
    survivor.close();
    await loop2;
  });
});
