// A tier change reaches the tenant's open streams on every replica: what the
// new tier lacks ends with PERMISSION_DENIED, a stream whose events would now
// carry empty cursors ends with UNAVAILABLE (reconnect under the new tier), and
// upgrades or changes that do not touch a stream leave it open.
import { randomUUID } from "node:crypto";
import { type ClientReadableStream, type ServiceError, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GroupConsumer, ReconnectInfo, StreamgateClient, StreamgateClientError } from "../client-sdk/src/index.js";
import { LAST_CURSOR_TRAILER } from "../server/errors.js";
import { adminKeys } from "../server/redis/layout.js";
import { memberVerdict, type SubscriptionUse, subscriptionVerdict, type TenantTiers } from "../server/tenancy/recheckTiers.js";
import { defaultTiers, type Tier } from "../server/tenancy/tiers.js";
import { event, sleep, startTestServer, type TestServer, take, waitFor } from "./helpers.js";
import { clientFor, keyStoreOf, md, rawClients, unary } from "./tenancyHelpers.js";

const ADMIN_KEY = "test-admin-key-0123456789";
const RECHECK_MS = 200;

/** Iterates a consumer (acking each delivery) until it ends; resolves with the error it ended with. */
function consumeUntilEnd(consumer: GroupConsumer, seen: string[] = []): Promise<StreamgateClientError | undefined> {
  return (async () => {
    for await (const d of consumer) {
      seen.push(d.event.cursor);
      d.ack();
    }
  })().then(
    () => undefined,
    (e: unknown) => e as StreamgateClientError,
  );
}

/** A fresh tenant id, so that tier changes of one test never touch another's streams. */
const tenant = (what: string) => `${what}-${randomUUID().slice(0, 8)}`;

describe("tier changes reach open streams", () => {
  let t: TestServer;
  const clients: StreamgateClient[] = [];
  const keyed = async (tenantId: string, tier: string) => {
    const k = await clientFor(t, tenantId, tier);
    clients.push(k.client);
    return k;
  };
  /** Another process (the CLI) changes the tier: the server learns it over pub/sub. */
  const setTier = (tenantId: string, tier: string) => keyStoreOf(t).setTier({ tenant: tenantId }, tier);
  /** Resolves once the server resolves the tenant's key to `tier` (its cache was dropped by the change). */
  const serverSees = (client: StreamgateClient, tier: string) =>
    waitFor(async () => (await client.getEventCapabilities()).tier === tier, `the server to see tier ${tier}`);

  beforeAll(async () => {
    t = await startTestServer({ auth: "keys", adminKey: ADMIN_KEY, keyRecheckMs: RECHECK_MS });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await t.close();
  });

  it("downgrading enterprise to free ends a consumer-group member with PERMISSION_DENIED and its last cursor", async () => {
    const acme = tenant("acme");
    const { client } = await keyed(acme, "enterprise");
    const consumer = client.consume({ group: "workers" });
    await consumer.joined;
    const seen: string[] = [];
    const ended = consumeUntilEnd(consumer, seen);
    const cursor = await client.publish(event(1));
    await waitFor(() => seen.length === 1, "the delivery");

    await setTier(acme, "free");
    const err = await ended;
    expect(err?.code).toBe(status.PERMISSION_DENIED);
    expect(err?.message).toMatch(/tier changed to free, which does not include consumer groups/);
    expect(err?.trailers[LAST_CURSOR_TRAILER]).toBe(cursor);
    await waitFor(() => !t.app.members.list().some((m) => m.tenant === acme), "the member to be released");
    // The new tier applies to the next call too.
    const again = await consumeUntilEnd(client.consume({ group: "workers" }));
    expect(again?.code).toBe(status.PERMISSION_DENIED);
  });

  it("ends a Kumiho EventStream consumer-group member with PERMISSION_DENIED", async () => {
    const acme = tenant("kumiho");
    const { token } = await keyed(acme, "enterprise");
    const raw = rawClients(t.app.address);
    try {
      const call = (raw.kumiho as unknown as { EventStream(req: unknown, m: unknown): ClientReadableStream<unknown> }).EventStream(
        { consumerGroup: "dashboards" },
        md(token),
      );
      const ended = new Promise<ServiceError>((resolve) => call.on("error", resolve));
      call.on("data", () => {});
      await waitFor(() => t.app.members.list().some((m) => m.tenant === acme), "the member to join");
      await setTier(acme, "creator");
      const err = await ended;
      expect(err.code).toBe(status.PERMISSION_DENIED);
      expect(err.details).toMatch(/tier changed to creator, which does not include consumer groups/);
    } finally {
      raw.close();
    }
  });

  it("ends a stream resumed from a cursor with PERMISSION_DENIED naming cursor support", async () => {
    const acme = tenant("cursor");
    const { client } = await keyed(acme, "enterprise");
    const first = await client.publish(event(1));
    const sub = client.eventStream({ cursor: first });
    await sub.ready;
    const second = await client.publish(event(2));
    const iterated = (async () => {
      const got: string[] = [];
      for await (const e of sub) got.push(e.cursor);
      return got;
    })().catch((e: unknown) => e as StreamgateClientError);
    await waitFor(() => sub.lastCursor === second, "the second event");

    await setTier(acme, "free");
    // What the user sees: the loop throws (PERMISSION_DENIED is not retried).
    const err = (await iterated) as StreamgateClientError;
    expect(err.code).toBe(status.PERMISSION_DENIED);
    expect(err.message).toMatch(/tier changed to free, which does not include cursor support: this stream resumed from a cursor/);
    expect(err.trailers[LAST_CURSOR_TRAILER]).toBe(second);
  });

  it("ends a live stream with UNAVAILABLE; reconnecting without a cursor gets events with empty cursors", async () => {
    const acme = tenant("live");
    const { client } = await keyed(acme, "studio");
    const sub = client.eventStream({ resume: false });
    await sub.ready;
    await client.publish(event(1));

    await setTier(acme, "free");
    const err = await sub.closed;
    expect(err?.code).toBe(status.UNAVAILABLE);
    expect(err?.message).toMatch(/^tier changed to free; reconnect/);

    const again = client.eventStream();
    await again.ready;
    await client.publish(event(2));
    const [got] = await take(again, 1);
    expect(got?.cursor).toBe("");
    expect(got?.details).toMatchObject({ i: "2" });
  });

  it("with the SDK's automatic resume, a live stream reconnects from its cursor and gets PERMISSION_DENIED", async () => {
    const acme = tenant("resume");
    const { client } = await keyed(acme, "enterprise");
    const sub = client.eventStream();
    const reconnects: ReconnectInfo[] = [];
    sub.on("reconnect", (info) => reconnects.push(info));
    await sub.ready;

    await setTier(acme, "free");
    const err = await sub.closed;
    expect(reconnects[0]?.error.code).toBe(status.UNAVAILABLE);
    expect(reconnects[0]?.error.message).toMatch(/tier changed to free; reconnect/);
    expect(err?.code).toBe(status.PERMISSION_DENIED);
    expect(err?.message).toMatch(/resuming from a cursor needs cursor support, which the free tier does not include/);
  });

  it("leaves open streams running on an upgrade, and on a change they do not depend on", async () => {
    const acme = tenant("upgrade");
    const { client } = await keyed(acme, "free");
    const live = client.eventStream({ resume: false });
    await live.ready;
    await setTier(acme, "creator");
    await serverSees(client, "creator");
    const cursor = await client.publish(event(1));
    const resumed = client.eventStream({ cursor, resume: false }); // allowed on creator
    await resumed.ready;
    await setTier(acme, "studio"); // neither stream uses what studio lacks
    await serverSees(client, "studio");
    await sleep(RECHECK_MS * 3); // the periodic re-check leaves them open too
    await client.publish(event(2));

    const [a, b] = await take(live, 2);
    expect([a?.cursor, b?.cursor]).toEqual(["", ""]); // opened on free: keeps empty cursors until it reconnects
    expect((await take(resumed, 1))[0]?.details).toMatchObject({ i: "2" });
  });

  it("re-checks within the re-check period when the change was never announced", async () => {
    const acme = tenant("silent");
    const { client } = await keyed(acme, "enterprise");
    const sub = client.eventStream({ resume: false });
    await sub.ready;
    // A missed pub/sub message: the tier changes in Redis without an announcement.
    await t.redis.hset(adminKeys(t.config.keyPrefix).tenants, acme, "free");
    const err = await sub.closed;
    expect(err?.code).toBe(status.UNAVAILABLE);
    expect(err?.message).toMatch(/tier changed to free; reconnect/);
  });

  it("ends the streams of a tenant moved to a tier this server does not define with PERMISSION_DENIED", async () => {
    const acme = tenant("gold");
    const { client } = await keyed(acme, "creator");
    const sub = client.eventStream({ resume: false });
    await sub.ready;
    await t.redis.hset(adminKeys(t.config.keyPrefix).tenants, acme, "gold");
    const err = await sub.closed;
    expect(err?.code).toBe(status.PERMISSION_DENIED);
    expect(err?.message).toMatch(/tier "gold", which this server's tier table does not define/);
  });
});

describe("tier changes across replicas", () => {
  let a: TestServer;
  let b: TestServer;
  const clients: StreamgateClient[] = [];

  beforeAll(async () => {
    a = await startTestServer({ auth: "keys", adminKey: ADMIN_KEY });
    b = await startTestServer({ auth: "keys", adminKey: ADMIN_KEY, keyPrefix: a.config.keyPrefix });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all([a.close(), b.close()]);
  });

  it("a SetTier on one replica ends the affected streams on both", async () => {
    const acme = tenant("replicas");
    const onA = await clientFor(a, acme, "enterprise");
    const onB = await clientFor(b, acme, "enterprise");
    clients.push(onA.client, onB.client);
    const subA = onA.client.eventStream({ resume: false });
    const subB = onB.client.eventStream({ resume: false });
    await Promise.all([subA.ready, subB.ready]);
    const consumer = onB.client.consume({ group: "workers" });
    await consumer.joined;
    const memberEnded = consumeUntilEnd(consumer);

    const raw = rawClients(a.app.address);
    try {
      expect(await unary(raw.admin, "SetTier", { tenant: acme, tier: "free" }, md(ADMIN_KEY))).toMatchObject({
        tier: "free",
        previousTier: "enterprise",
      });
    } finally {
      raw.close();
    }
    for (const sub of [subA, subB]) {
      const err = await sub.closed;
      expect(err?.code).toBe(status.UNAVAILABLE);
      expect(err?.message).toMatch(/tier changed to free; reconnect/);
    }
    expect((await memberEnded)?.code).toBe(status.PERMISSION_DENIED);
  });
});

describe("what a tier change does to an open stream", () => {
  const tiers = (name: string, tier: Tier | undefined = defaultTiers[name]): TenantTiers => new Map([["acme", { name, tier }]]);
  const sub = (over: Partial<SubscriptionUse> = {}): SubscriptionUse => ({
    owner: "key_0123456789abcdef",
    tenantId: "acme",
    start: { kind: "live" },
    state: "live",
    includeCursor: true,
    lastSent: "1-0",
    ...over,
  });
  const code = (v: { code: number } | undefined) => v?.code;

  it("refuses replay only while the stream is still replaying", () => {
    const noReplay = { ...(defaultTiers.creator as Tier), name: "cursors-only", supportsReplay: false };
    const replaying = sub({ start: { kind: "from", id: "5-0" }, state: "catchup" });
    expect(code(subscriptionVerdict(replaying, tiers("cursors-only", noReplay)))).toBe(status.PERMISSION_DENIED);
    expect(subscriptionVerdict(replaying, tiers("cursors-only", noReplay))?.message).toMatch(/does not include replay/);
    expect(subscriptionVerdict({ ...replaying, state: "live" }, tiers("cursors-only", noReplay))).toBeUndefined();
    expect(code(subscriptionVerdict({ ...replaying, state: "live" }, tiers("free")))).toBe(status.UNAVAILABLE);
  });

  it("leaves streams alone on upgrades, for other tenants, and when not opened with an API key", () => {
    expect(subscriptionVerdict(sub({ includeCursor: false }), tiers("enterprise"))).toBeUndefined();
    expect(subscriptionVerdict(sub({ tenantId: "globex" }), tiers("free"))).toBeUndefined();
    expect(subscriptionVerdict(sub({ owner: undefined }), tiers("free"))).toBeUndefined(); // JWT or auth none
    expect(subscriptionVerdict(sub({ includeCursor: false }), tiers("free"))).toBeUndefined(); // free to free
    const member = { owner: "key_0123456789abcdef", tenant: "acme", lastCursor: () => "" };
    expect(memberVerdict(member, tiers("enterprise"))).toBeUndefined();
    expect(memberVerdict({ ...member, owner: undefined }, tiers("free"))).toBeUndefined();
    expect(code(memberVerdict(member, tiers("studio")))).toBe(status.PERMISSION_DENIED);
  });
});
