// Consumer-group start position: a new group starts at the latest event by
// default, or at `fromTimestamp`; the start position applies only when the
// group is created, so a later member's own start position changes nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConsumeOptions, GroupConsumer } from "../client-sdk/src/index.js";
import { idMillis } from "../server/redis/streamIds.js";
import { event, sleep, startTestServer, type TestServer, waitFor } from "./helpers.js";

/** Time for a delivery the group should not make to show up. */
const QUIET_MS = 300;

describe("consumer group start position", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ groupClaimIntervalMs: 50 });
  });
  afterAll(async () => {
    await t.close();
  });

  /** Publishes `n` events with routing key `rk`, one call, and returns their cursors. */
  const publish = (rk: string, n: number, from = 0) => t.client.publishBatch(Array.from({ length: n }, (_, i) => event(from + i, rk)));

  /** Joins, acknowledges everything it gets, and records the cursors in order. */
  async function member(options: ConsumeOptions) {
    const consumer: GroupConsumer = t.client.consume({ ackTimeoutMs: 60_000, ...options });
    const joined = await consumer.joined;
    const got: string[] = [];
    const loop = (async () => {
      for await (const d of consumer) {
        got.push(d.event.cursor);
        d.ack();
      }
    })();
    return {
      joined,
      got,
      async stop() {
        consumer.close();
        await loop;
      },
    };
  }

  /** Waits until the group has no members left (the last one's reads have ended). */
  const empty = (group: string) =>
    waitFor(async () => (await t.client.groups.describe(group)).members.length === 0, `${group} to be empty`);

  /** Waits for `expected` deliveries, then a little longer for any extra one. */
  async function receivedExactly(got: string[], expected: string[]) {
    await waitFor(() => got.length >= expected.length, `${expected.length} deliveries`);
    await sleep(QUIET_MS);
    expect(got).toEqual(expected);
  }

  it("by default a new group gets only the events published after it was created", async () => {
    const before = await publish("start.latest", 5);
    const m = await member({ group: "latest", member: "m1", routingKeyFilter: "start.latest" });
    expect(m.joined.created).toBe(true);
    const after = await publish("start.latest", 5, 5);
    await receivedExactly(m.got, after);
    expect(m.got.filter((c) => before.includes(c))).toEqual([]);
    await waitFor(async () => (await t.client.groups.describe("latest")).pending === 0, "the acks");
    expect((await t.client.groups.describe("latest")).lag).toBe(0);
    await m.stop();
  });

  it("a group created with fromTimestamp gets exactly the events at or after that time", async () => {
    const early = await publish("start.ts", 5);
    await sleep(5);
    const between = new Date().toISOString();
    await sleep(5);
    const late = await publish("start.ts", 5, 5);
    const lastEarly = idMillis(early.at(-1) as string);
    const firstLate = idMillis(late[0] as string);
    expect(lastEarly).toBeLessThan(Date.parse(between));
    expect(firstLate).toBeGreaterThan(Date.parse(between));

    const m = await member({ group: "since", member: "m1", routingKeyFilter: "start.ts", fromTimestamp: between });
    expect(m.joined.created).toBe(true);
    const live = await publish("start.ts", 2, 10);
    await receivedExactly(m.got, [...late, ...live]);
    await m.stop();
  });

  it("fromTimestamp equal to an event's time includes that event", async () => {
    const early = await publish("start.edge", 3);
    await sleep(5);
    const late = await publish("start.edge", 3, 3);
    expect(idMillis(early.at(-1) as string)).toBeLessThan(idMillis(late[0] as string));
    const at = new Date(idMillis(late[0] as string)).toISOString();
    const m = await member({ group: "edge", member: "m1", routingKeyFilter: "start.edge", fromTimestamp: at });
    await receivedExactly(m.got, late);
    await m.stop();
  });

  it("a member joining an existing group with fromBeginning does not move the group back", async () => {
    const old = await publish("start.keep", 5);
    const first = await member({ group: "keep", member: "first", routingKeyFilter: "start.keep" });
    expect(first.joined.created).toBe(true);
    await first.stop();
    await empty("keep"); // the group exists, positioned after `old`, with nobody in it
    const unread = await publish("start.keep", 5, 5);

    const second = await member({ group: "keep", member: "second", routingKeyFilter: "start.keep", fromBeginning: true });
    expect(second.joined.created).toBe(false);
    const live = await publish("start.keep", 2, 10);
    await receivedExactly(second.got, [...unread, ...live]);
    expect(second.got.filter((c) => old.includes(c))).toEqual([]);
    expect(first.got).toEqual([]);
    await second.stop();
  });

  it("a member joining an existing fromTimestamp group with the default start still gets the group's backlog", async () => {
    const early = await publish("start.keep2", 3);
    await sleep(5);
    const between = new Date().toISOString();
    await sleep(5);
    const creator = t.client.consume({ group: "keep2", routingKeyFilter: "start.keep2", fromTimestamp: between });
    expect((await creator.joined).created).toBe(true);
    creator.close();
    await empty("keep2"); // created, positioned before `between`, never read from
    const late = await publish("start.keep2", 3, 3);

    const m = await member({ group: "keep2", member: "m", routingKeyFilter: "start.keep2" });
    expect(m.joined.created).toBe(false);
    await receivedExactly(m.got, late); // a "latest" start applied at this join would skip them
    expect(m.got.filter((c) => early.includes(c))).toEqual([]);
    await m.stop();
  });
});
