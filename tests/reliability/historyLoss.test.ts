// Redis losing acknowledged events: restarted empty, or restored from an older
// copy of its AOF. Cursors from before are refused and live subscribers are
// ended, with DATA_LOSS (trailer streamgate-reason: data-loss), never a silent
// skip to whatever the stream holds now. Restarting with the data intact ends
// nothing.
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, type Event, type StreamgateClient, type StreamgateClientError } from "../../client-sdk/src/index.js";
import { withCommands } from "../../server/redis/commands.js";
import { tenantKeys } from "../../server/redis/layout.js";
import { type LocalRedis, startLocalRedis } from "../../server/redis/localRedis.js";
import { event, idOf, take, waitFor } from "../helpers.js";
import { collect, keepResuming, type RelServer, startServerOn } from "./harness.js";

let dir: string;
let redis: LocalRedis;
const servers: RelServer[] = [];
const clients: StreamgateClient[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sg-history-"));
  redis = await startLocalRedis({ dataDir: join(dir, "data"), appendOnly: true });
});

afterAll(async () => {
  for (const c of clients) c.close();
  for (const s of servers) await s.app.close(2000);
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function server(overrides: Parameters<typeof startServerOn>[1] = {}): Promise<{ s: RelServer; client: StreamgateClient }> {
  const s = await startServerOn(redis.url, overrides);
  servers.push(s);
  const client = createClient({ address: s.app.address });
  clients.push(client);
  return { s, client };
}

/** Stops Redis (it writes its AOF), lets `change` touch its data directory, and starts it again on the same port. */
async function restartRedis(change: (dataDir: string) => void = () => {}): Promise<void> {
  await redis.stop();
  change(join(dir, "data"));
  redis = await startLocalRedis({ dataDir: join(dir, "data"), appendOnly: true, port: redis.port });
}

/** The cursor of the `n`th event of a from_beginning replay. */
async function cursorOfNth(client: StreamgateClient, n: number): Promise<string> {
  const got = await take(client.eventStream({ fromBeginning: true, resume: false }), n);
  return (got[n - 1] as Event).cursor;
}

function expectHistoryLost(err: StreamgateClientError | undefined): void {
  expect(err?.code).toBe(Code.DATA_LOSS);
  expect(err?.trailers["streamgate-reason"]).toBe("data-loss");
}

describe("Redis restarted empty", () => {
  it("ends a live subscriber and refuses resuming cursors (with or without an epoch) with DATA_LOSS", async () => {
    const { client } = await server();
    const live = client.eventStream({ resume: keepResuming });
    await live.ready;
    const received: Event[] = [];
    const loop = collect(live, received);
    await client.publishBatch(Array.from({ length: 100 }, (_, i) => event(i)));
    await waitFor(() => received.length === 100, "the live subscriber to receive 100 events");
    const saved = await cursorOfNth(client, 50);

    await restartRedis((data) => rmSync(join(data, "appendonlydir"), { recursive: true, force: true }));

    // The live subscriber's loop ends with the error: no event of the new history reaches it.
    expectHistoryLost((await loop) as StreamgateClientError);
    expect(received).toHaveLength(100);
    // Publishing works again (the client retries until Redis answers); the old cursors do not resume.
    const fresh = await client.publish(event(1000));
    expect(fresh.split(".")[1]).not.toBe(saved.split(".")[1]);
    expectHistoryLost(await client.eventStream({ cursor: saved, resume: false }).closed);
    // A cursor without an epoch (the older form) cannot be told from one trimmed away: OUT_OF_RANGE
    // naming the earliest event, also an explicit error.
    const legacy = await client.eventStream({ cursor: idOf(saved), resume: false }).closed;
    expect(legacy?.code).toBe(Code.OUT_OF_RANGE);
    expect(legacy?.trailers["streamgate-earliest-cursor"]).toBe(fresh);
    // A new subscription sees the new history.
    const [first] = await take(client.eventStream({ fromBeginning: true, resume: false }), 1);
    expect(first?.cursor).toBe(fresh);
  });
});

describe("the stream's key deleted", () => {
  it("the next publish starts a new history: live subscribers end and older cursors are refused with DATA_LOSS", async () => {
    const { s, client } = await server();
    const live = client.eventStream({ resume: keepResuming });
    await live.ready;
    const received: Event[] = [];
    const loop = collect(live, received);
    const old = await client.publishBatch([event(1), event(2)]);
    await waitFor(() => received.length === 2, "the first two events");
    const admin = new Redis(redis.url);
    try {
      await admin.del(s.stream);
    } finally {
      admin.disconnect();
    }
    const fresh = await client.publish(event(3));
    expectHistoryLost((await loop) as StreamgateClientError);
    expect(received.map((e) => e.cursor)).toEqual(old);
    expectHistoryLost(await client.eventStream({ cursor: old[0], resume: false }).closed);
    const [first] = await take(client.eventStream({ fromBeginning: true, resume: false }), 1);
    expect(first?.cursor).toBe(fresh);
  });

  it("a consumer group member ends with DATA_LOSS; rejoining gets the new stream's events", async () => {
    const { s, client } = await server();
    const member = client.consume({ group: "g", member: "m1" });
    await member.joined;
    const got: string[] = [];
    const loop = (async () => {
      for await (const d of member) {
        got.push(d.event.cursor);
        d.ack();
      }
    })().then(
      () => undefined,
      (err: unknown) => err,
    );
    const before = await client.publish(event(1));
    await waitFor(() => got.length === 1, "the group's first delivery");
    const admin = new Redis(redis.url);
    try {
      await admin.del(s.stream);
    } finally {
      admin.disconnect();
    }
    expectHistoryLost((await loop) as StreamgateClientError);
    expect(got).toEqual([before]);
    // Rejoining recreates the group on the new stream, from its start: nothing of the new history is skipped.
    const fresh = await client.publish(event(2));
    const again = client.consume({ group: "g", member: "m1" });
    try {
      for await (const d of again) {
        expect(d.event.cursor).toBe(fresh);
        d.ack();
        break;
      }
    } finally {
      again.close();
    }
  });
});

describe("Redis restored from an older copy of its AOF", () => {
  it("a restart with the data intact ends nothing; a rollback ends live subscribers and refuses every older cursor", async () => {
    const watched = await server(); // has a live subscriber: its server witnesses the rollback
    const unwatched = await server(); // has none
    const live = watched.client.eventStream({ resume: keepResuming });
    await live.ready;
    const received: Event[] = [];
    const loop = collect(live, received);
    for (const { client } of [watched, unwatched]) await client.publishBatch(Array.from({ length: 50 }, (_, i) => event(i)));
    await waitFor(() => received.length === 50, "the first 50 events");

    // A backup of the AOF, taken with Redis stopped; then a plain restart, which loses nothing.
    const backup = join(dir, "backup");
    await restartRedis((data) => cpSync(join(data, "appendonlydir"), backup, { recursive: true }));
    for (const { client } of [watched, unwatched]) await client.publishBatch(Array.from({ length: 50 }, (_, i) => event(50 + i)));
    await waitFor(() => received.length === 100, "all 100 events, across the restart");
    const before = { 30: await cursorOfNth(watched.client, 30), 80: await cursorOfNth(watched.client, 80) };
    const unwatched80 = await cursorOfNth(unwatched.client, 80);

    // Restored: events 51-100 are gone from Redis, although they were acknowledged and delivered.
    await restartRedis((data) => {
      rmSync(join(data, "appendonlydir"), { recursive: true, force: true });
      cpSync(backup, join(data, "appendonlydir"), { recursive: true });
    });
    expectHistoryLost((await loop) as StreamgateClientError);
    expect(received).toHaveLength(100);
    // The witnessing server moved the stream to a new epoch: every earlier cursor is refused,
    // also one from before the rollback point (resuming from it would silently miss events 51-100).
    for (const cursor of [before[80], before[30]]) {
      expectHistoryLost(await watched.client.eventStream({ cursor, resume: false }).closed);
    }
    // Without a witness, a cursor naming a lost event is refused.
    expectHistoryLost(await unwatched.client.eventStream({ cursor: unwatched80, resume: false }).closed);
    // The restored history is served under the new epoch.
    const replay = await take(watched.client.eventStream({ fromBeginning: true, resume: false }), 50);
    expect(replay.map((e) => e.details.i)).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
    expect(replay[0]?.cursor.split(".")[1]).not.toBe(before[30].split(".")[1]);
  });
});

describe("what is not a loss of history", () => {
  it("another tool's trim that empties the stream: a cursor gets OUT_OF_RANGE, and live subscribers carry on across a reconnect", async () => {
    const { s, client } = await server();
    const live = client.eventStream({ resume: keepResuming });
    await live.ready;
    const received: Event[] = [];
    const loop = collect(live, received);
    const cursors = await client.publishBatch([event(1), event(2), event(3)]);
    await waitFor(() => received.length === 3, "three events");
    const admin = new Redis(redis.url);
    try {
      // XTRIM does not record what it removed (Redis's max-deleted-entry-id stays put).
      await admin.xtrim(s.stream, "MAXLEN", 0);
      const refused = await client.eventStream({ cursor: cursors[0], resume: false }).closed;
      expect(refused?.code).toBe(Code.OUT_OF_RANGE);
      // Every connection dropped: the shared reader checks the stream's history when it reconnects.
      await admin.call("CLIENT", "KILL", "SKIPME", "yes");
    } finally {
      admin.disconnect();
    }
    const next = await client.publish(event(4));
    await waitFor(() => received.length === 4, "the next event at the live subscriber");
    expect(received.map((e) => e.cursor)).toEqual([...cursors, next]);
    live.close();
    expect(await loop).toBeUndefined();
  });

  it("a cursor of the epoch another replica moved the stream to is resumed, not refused", async () => {
    const a = await server();
    const b = await server({ keyPrefix: a.s.config.keyPrefix });
    const live = a.client.eventStream({ resume: false });
    await live.ready; // a's shared reader now reads the stream in its current epoch
    const admin = new Redis(redis.url);
    const keys = tenantKeys(a.s.config.keyPrefix, a.s.config.tenant);
    try {
      // What replica b does when it sees a rollback: a new epoch (a's reader has not noticed yet).
      const epoch = (await admin.get(keys.epoch)) as string;
      await withCommands(admin).sgBumpEpoch(keys.epoch, epoch, "0b5e1e55");
    } finally {
      admin.disconnect();
    }
    const cursor = await b.client.publish(event(1));
    expect(cursor.endsWith(".0b5e1e55")).toBe(true);
    const sub = a.client.eventStream({ cursor, resume: false });
    await sub.ready;
    const next = await b.client.publish(event(2));
    const [got] = await take(sub, 1);
    expect(got?.cursor).toBe(next);
    // Its live subscriber of the old epoch was ended when a's reader caught up with the change.
    expectHistoryLost(await live.closed);
  });
});
