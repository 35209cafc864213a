// Retention: a tenant's stream keeps at most its tier's buffer and nothing
// older than its window, on write, on replay and by the periodic sweep; a
// cursor older than the window gets OUT_OF_RANGE naming the earliest cursor.
// Old events are written with explicit stream IDs in the past (as another
// producer could), so no test waits for time to pass.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Event, StreamgateClient } from "../client-sdk/src/index.js";
import { tenantKeys } from "../server/redis/layout.js";
import { event, idOf, startTestServer, type TestServer, take, waitFor } from "./helpers.js";
import { clientFor, keyStoreOf, tierSpec, tiersFile } from "./tenancyHelpers.js";

const HOUR = 3_600_000;

/** A server with the test tiers, and helpers to make tenants and old entries on it. */
function retentionServer(retentionSweepMs: number) {
  const ctx = {
    t: undefined as unknown as TestServer,
    clients: [] as StreamgateClient[],
    n: 0,
    /** A fresh tenant on `tier` with a client. */
    async tenant(tier: string) {
      const name = `t${++ctx.n}`;
      const k = await clientFor(ctx.t, name, tier);
      ctx.clients.push(k.client);
      return { name, client: k.client, id: k.id, keys: tenantKeys(ctx.t.config.keyPrefix, name) };
    },
    /** Appends an entry as another producer would, with an explicit ID `agoMs` in the past. */
    async addOld(stream: string, agoMs: number, seq = 0) {
      return (await ctx.t.redis.xadd(
        stream,
        `${Date.now() - agoMs}-${seq}`,
        "routing_key",
        "old.event",
        "kref",
        "kref://p/s/old.k",
      )) as string;
    },
  };
  beforeAll(async () => {
    const tiers = tiersFile({
      small: tierSpec({ maxBufferSize: 5 }),
      // 0.0005 h = 1.8 s: a window short enough for wall-clock tests, reported as 1 whole hour.
      brief: tierSpec({ maxRetentionHours: 0.0005 }),
    });
    ctx.t = await startTestServer({ auth: "keys", tiersFile: tiers, retentionSweepMs });
  });
  afterAll(async () => {
    for (const c of ctx.clients) c.close();
    await ctx.t.close();
  });
  return ctx;
}

/** Everything a from_beginning replay returns, up to a marker event appended last (by `mark`, or published). */
async function replayAll(client: StreamgateClient, mark?: () => Promise<string>): Promise<Event[]> {
  const marker = mark ? await mark() : await client.publish({ ...event(0), routingKey: "marker.end" });
  const out: Event[] = [];
  for await (const e of client.eventStream({ fromBeginning: true })) {
    if (idOf(e.cursor) === idOf(marker)) break;
    out.push(e);
  }
  return out;
}

describe("retention on write and on replay", () => {
  const s = retentionServer(0);
  const { tenant, addOld } = s;

  it("keeps at most the tier's buffer size on write and replays only that", async () => {
    const a = await tenant("small");
    const cursors = [];
    for (let i = 1; i <= 12; i++) cursors.push(await a.client.publish(event(i)));
    expect(await s.t.redis.xlen(a.keys.events)).toBe(5);
    expect(await s.t.redis.get(a.keys.trimmed)).toBe(idOf(cursors[6] as string));
    const batch = await a.client.publishBatch([event(13), event(14), event(15)]);
    expect(await s.t.redis.xlen(a.keys.events)).toBe(5);
    // The replay's end marker is a 16th event, so the last five are: event 12, the batch, the marker.
    expect((await replayAll(a.client)).map((e) => e.cursor)).toEqual([cursors[11], ...batch]);
  });

  it("trims by time on write", async () => {
    const a = await tenant("creator"); // 1 hour
    await addOld(a.keys.events, 2 * HOUR);
    const kept = await addOld(a.keys.events, HOUR / 2);
    const fresh = await a.client.publish(event(1));
    expect((await s.t.redis.xrange(a.keys.events, "-", "+")).map(([id]) => id)).toEqual([kept, idOf(fresh)]);
  });

  it("replays nothing older than the tier's window, even before anything trimmed it", async () => {
    const a = await tenant("creator"); // 1 hour
    await addOld(a.keys.events, 2 * HOUR);
    await addOld(a.keys.events, 2 * HOUR, 1);
    const recent = await addOld(a.keys.events, HOUR / 2);
    // The marker comes from another producer too, so no publish trims the stream before the replay.
    const mark = () => addOld(a.keys.events, 0);
    expect((await replayAll(a.client, mark)).map((e) => idOf(e.cursor))).toEqual([recent]);

    const b = await tenant("creator");
    await addOld(b.keys.events, 3 * HOUR);
    const recentB = await addOld(b.keys.events, HOUR / 4);
    const fromTs = new Date(Date.now() - 5 * HOUR).toISOString();
    const [first] = await take(b.client.eventStream({ fromTimestamp: fromTs }), 1);
    expect(idOf(first?.cursor ?? "")).toBe(recentB);
  });

  it("refuses a cursor with events missing after it with OUT_OF_RANGE naming the earliest available cursor", async () => {
    const a = await tenant("creator");
    const stale = await addOld(a.keys.events, 2 * HOUR);
    await addOld(a.keys.events, 2 * HOUR - 1000); // outside the window, so the client would miss it
    const earliest = await addOld(a.keys.events, HOUR / 2);
    const closed = await a.client.eventStream({ cursor: stale }).closed;
    expect(closed?.code).toBe(status.OUT_OF_RANGE);
    // A cursor without an epoch (as servers issued them before epochs) is still checked; the earliest comes with one.
    expect(closed?.message).toMatch(
      new RegExp(`cursor ${stale} is older than the retained window; the earliest available cursor is ${earliest}\\.[0-9a-f]{8}`),
    );
    expect(idOf(closed?.trailers["streamgate-earliest-cursor"] ?? "")).toBe(earliest);

    // Trimmed by count: the cursor of an event that is gone.
    const s = await tenant("small");
    const cursors = [];
    for (let i = 1; i <= 8; i++) cursors.push(await s.client.publish(event(i)));
    const gone = await s.client.eventStream({ cursor: cursors[0] }).closed;
    expect(gone?.code).toBe(status.OUT_OF_RANGE);
    expect(gone?.trailers["streamgate-earliest-cursor"]).toBe(cursors[3]);
  });

  it("resumes a cursor older than the window when nothing after it was lost", async () => {
    const a = await tenant("creator");
    const idle = await addOld(a.keys.events, 2 * HOUR); // the client's last event, long ago
    const sub = a.client.eventStream({ cursor: idle });
    await sub.ready;
    const next = await a.client.publish(event(1));
    expect((await take(sub, 1))[0]?.cursor).toBe(next);
  });

  it("applies a smaller tier's retention as soon as the tenant's tier changes", async () => {
    const a = await tenant("studio"); // 24 hours
    await addOld(a.keys.events, 5 * HOUR);
    const recent = await addOld(a.keys.events, HOUR / 2);
    expect(await s.t.redis.xlen(a.keys.events)).toBe(2);
    await keyStoreOf(s.t).setTier({ keyId: a.id }, "creator");
    expect((await s.t.redis.xrange(a.keys.events, "-", "+")).map(([id]) => id)).toEqual([recent]);
    expect((await a.client.getEventCapabilities()).tier).toBe("creator");
  });
});

describe("retention sweep", () => {
  const s = retentionServer(100);
  const { tenant, addOld } = s;

  it("trims an idle stream by time and by count with the periodic sweep", async () => {
    const byTime = await tenant("creator");
    await addOld(byTime.keys.events, 2 * HOUR);
    const keep = await addOld(byTime.keys.events, HOUR / 2);
    const byCount = await tenant("small");
    for (let i = 0; i < 9; i++) await addOld(byCount.keys.events, 1000, i);
    await waitFor(async () => (await s.t.redis.xlen(byTime.keys.events)) === 1, "the sweep to trim by time");
    await waitFor(async () => (await s.t.redis.xlen(byCount.keys.events)) === 5, "the sweep to trim by count");
    expect((await s.t.redis.xrange(byTime.keys.events, "-", "+")).map(([id]) => id)).toEqual([keep]);
  });

  it("trims by a fractional-hour window as real time passes", async () => {
    const a = await tenant("brief");
    expect((await a.client.getEventCapabilities()).maxRetentionHours).toBe(1); // whole hours on the wire, rounded up
    const first = await a.client.publish(event(1));
    await waitFor(async () => (await s.t.redis.xlen(a.keys.events)) === 0, "the 1.8 s window to pass and the sweep to trim");
    expect(await s.t.redis.get(a.keys.trimmed)).toBe(idOf(first));
    const second = await a.client.publish(event(2));
    expect((await replayAll(a.client)).map((e) => e.cursor)).toEqual([second]);
  });
});
