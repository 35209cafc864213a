// STREAMGATE_AUTH=keys: API keys authenticate every RPC, map to a tenant and
// its tier, and stop working (new calls and open streams) when revoked.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type StreamgateClient } from "../client-sdk/src/index.js";
import { adminKeys } from "../server/redis/layout.js";
import { event, startTestServer, type TestServer, take, waitFor } from "./helpers.js";
import { clientFor, expectCode, keyStoreOf, md, rawClients, streamStatus, unary } from "./tenancyHelpers.js";

const ADMIN_KEY = "test-admin-key-0123456789";

describe("API key authentication", () => {
  let t: TestServer;
  let raw: ReturnType<typeof rawClients>;
  const clients: StreamgateClient[] = [];
  const keyed = async (tenant: string, tier: string) => {
    const k = await clientFor(t, tenant, tier);
    clients.push(k.client);
    return k;
  };

  beforeAll(async () => {
    t = await startTestServer({ auth: "keys", adminKey: ADMIN_KEY, keyRecheckMs: 200 });
    raw = rawClients(t.app.address);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    raw.close();
    await t.close();
  });

  it("refuses every RPC without credentials with UNAUTHENTICATED", async () => {
    const anon = createClient({ address: t.app.address });
    clients.push(anon);
    await expectCode(anon.publish(event(1)), status.UNAUTHENTICATED, /missing credentials/);
    await expectCode(anon.publishBatch([event(1)]), status.UNAUTHENTICATED);
    await expectCode(anon.getEventCapabilities(), status.UNAUTHENTICATED);
    expect((await anon.eventStream().closed)?.code).toBe(status.UNAUTHENTICATED);
    const kumiho = createClient({ address: t.app.address, protocol: "kumiho" });
    clients.push(kumiho);
    expect((await kumiho.eventStream().closed)?.code).toBe(status.UNAUTHENTICATED);
    expect(await t.redis.exists(`${t.config.keyPrefix}:{default}:events`)).toBe(0);
  });

  it("refuses malformed, unknown and non-bearer credentials with UNAUTHENTICATED", async () => {
    const { token } = await keyed("acme", "creator");
    const unknown = `sg_${"A".repeat(43)}`;
    for (const bad of ["garbage", unknown, `${token}x`, token.slice(0, -1)]) {
      await expectCode(unary(raw.sg, "Publish", { routingKey: "a.b", kref: { uri: "kref://p/s/n.k" } }, md(bad)), status.UNAUTHENTICATED);
    }
    const basic = md();
    basic.set("authorization", `Basic ${token}`);
    await expectCode(unary(raw.kumiho, "GetEventCapabilities", {}, basic), status.UNAUTHENTICATED, /Bearer/);
    expect((await streamStatus(raw.sg, "Subscribe", {}, md(unknown))).code).toBe(status.UNAUTHENTICATED);
  });

  it("resolves a key to its tenant and tier", async () => {
    const { client } = await keyed("acme", "studio");
    expect(await client.getEventCapabilities()).toMatchObject({ tier: "studio", maxRetentionHours: 24, maxBufferSize: 100_000 });
    const sub = client.eventStream();
    await sub.ready;
    const cursor = await client.publish(event(1));
    const [got] = await take(sub, 1);
    expect(got).toMatchObject({ cursor, tenantId: "acme" });
    expect(await t.redis.xlen(`${t.config.keyPrefix}:{acme}:events`)).toBeGreaterThan(0);
  });

  it("accepts x-tenant-id naming the key's tenant and refuses any other with PERMISSION_DENIED", async () => {
    const { token } = await keyed("acme", "creator");
    const caps = await unary(raw.kumiho, "GetEventCapabilities", {}, md(token, { "x-tenant-id": "acme" }));
    expect(caps.tier).toBe("creator");
    const other = md(token, { "x-tenant-id": "globex" });
    await expectCode(unary(raw.kumiho, "GetEventCapabilities", {}, other), status.PERMISSION_DENIED, /x-tenant-id "globex".*acme/);
    await expectCode(unary(raw.sg, "Publish", { routingKey: "a.b", kref: { uri: "kref://p/s/n.k" } }, other), status.PERMISSION_DENIED);
    expect((await streamStatus(raw.kumiho, "EventStream", {}, other)).code).toBe(status.PERMISSION_DENIED);
    expect(await t.redis.exists(`${t.config.keyPrefix}:{globex}:events`)).toBe(0);
  });

  it("refuses a revoked key on the very next call, even right after it was cached", async () => {
    const { client, id } = await keyed("acme", "creator");
    await client.publish(event(1)); // resolved and cached
    await keyStoreOf(t).revoke(id); // another process's store: the server learns it over pub/sub
    await expectCode(client.publish(event(2)), status.UNAUTHENTICATED, /unknown or revoked/);
    await expectCode(client.getEventCapabilities(), status.UNAUTHENTICATED);
  });

  it("ends a revoked key's open streams with UNAUTHENTICATED and leaves other keys' streams open", async () => {
    const a = await keyed("acme", "creator");
    const b = await keyed("acme", "creator");
    const subA = a.client.eventStream();
    const subB = b.client.eventStream();
    await Promise.all([subA.ready, subB.ready]);
    const delivered = await b.client.publish(event(1));

    await keyStoreOf(t).revoke(a.id);
    const ended = await subA.closed;
    expect(ended?.code).toBe(status.UNAUTHENTICATED);
    expect(ended?.message).toMatch(new RegExp(`API key ${a.id} was revoked`));

    const after = await b.client.publish(event(2));
    const got = await take(subB, 2);
    expect(got.map((e) => e.cursor)).toEqual([delivered, after]);
  });

  it("ends a revoked key's consumer-group members with UNAUTHENTICATED", async () => {
    const a = await keyed("groupco", "enterprise");
    const consumer = a.client.consume({ group: "workers" });
    await consumer.joined;
    const loop = (async () => {
      for await (const _ of consumer) {
        // no events expected
      }
    })().then(
      () => undefined,
      (e: unknown) => e as { code: number; message: string },
    );
    await keyStoreOf(t).revoke(a.id);
    const ended = await loop;
    expect(ended?.code).toBe(status.UNAUTHENTICATED);
    expect(ended?.message).toMatch(new RegExp(`API key ${a.id} was revoked`));
    await waitFor(() => t.app.members.size === 0, "the member to be released");
  });

  it("ends the stream of a key deleted without an announcement within the re-check period", async () => {
    const a = await keyed("acme", "creator");
    const sub = a.client.eventStream();
    await sub.ready;
    // Simulates a missed pub/sub message: the key disappears from Redis silently.
    const record = JSON.parse((await t.redis.hget(adminKeys(t.config.keyPrefix).keys, a.id)) as string) as { hash: string };
    await t.redis.multi().hdel(adminKeys(t.config.keyPrefix).keys, a.id).hdel(adminKeys(t.config.keyPrefix).keyHashes, record.hash).exec();
    expect((await sub.closed)?.code).toBe(status.UNAUTHENTICATED);
  });

  it("applies a tier change to the tenant's next call", async () => {
    const { client, id } = await keyed("initech", "creator");
    const other = await keyed("initech", "creator"); // same tenant, so same tier
    expect((await client.getEventCapabilities()).tier).toBe("creator");
    await client.publish(event(1));
    await keyStoreOf(t).setTier({ keyId: id }, "free");
    expect(await client.getEventCapabilities()).toMatchObject({ tier: "free", supportsCursor: false, supportsReplay: false });
    expect((await other.client.getEventCapabilities()).tier).toBe("free");
    expect((await client.eventStream({ fromBeginning: true }).closed)?.code).toBe(status.PERMISSION_DENIED);
  });
});

describe("Admin service", () => {
  let t: TestServer;
  let raw: ReturnType<typeof rawClients>;
  const admin = () => md(ADMIN_KEY);

  beforeAll(async () => {
    t = await startTestServer({ auth: "keys", adminKey: ADMIN_KEY });
    raw = rawClients(t.app.address);
  });
  afterAll(async () => {
    raw.close();
    await t.close();
  });

  it("needs the admin key: none is UNAUTHENTICATED, anything else PERMISSION_DENIED", async () => {
    const { token } = await keyStoreOf(t).create({ tenant: "acme", tier: "enterprise" });
    await expectCode(unary(raw.admin, "ListKeys", {}, md()), status.UNAUTHENTICATED);
    await expectCode(unary(raw.admin, "ListKeys", {}, md(token)), status.PERMISSION_DENIED, /admin key/);
    await expectCode(unary(raw.admin, "CreateKey", { tenant: "x", tier: "free" }, md(`${ADMIN_KEY}x`)), status.PERMISSION_DENIED);
    await expectCode(unary(raw.admin, "CreateKey", { tenant: "x", tier: "free" }, md(ADMIN_KEY.slice(0, -1))), status.PERMISSION_DENIED);
    expect(await keyStoreOf(t).list("x")).toEqual([]);
  });

  it("creates a working key, lists keys without secrets, changes tiers and revokes", async () => {
    const created = await unary<{ key: { id: string; tenant: string; tier: string }; token: string }>(
      raw.admin,
      "CreateKey",
      { tenant: "hooli", tier: "creator", name: "ci" },
      admin(),
    );
    expect(created.token).toMatch(/^sg_[A-Za-z0-9_-]{43}$/);
    expect(created.key).toMatchObject({ tenant: "hooli", tier: "creator" });
    const client = createClient({ address: t.app.address, token: created.token });
    try {
      expect((await client.getEventCapabilities()).tier).toBe("creator");

      const listed = await unary<{ keys: Record<string, string>[] }>(raw.admin, "ListKeys", { tenant: "hooli" }, admin());
      expect(listed.keys).toEqual([expect.objectContaining({ id: created.key.id, tenant: "hooli", tier: "creator", name: "ci" })]);
      const stored = JSON.stringify(await t.redis.hgetall(adminKeys(t.config.keyPrefix).keys));
      expect(JSON.stringify(listed)).not.toContain(created.token);
      expect(stored).not.toContain(created.token); // only the hash is stored

      const moved = await unary(raw.admin, "SetTier", { tenant: "hooli", tier: "studio" }, admin());
      expect(moved).toEqual({ tenant: "hooli", tier: "studio", previousTier: "creator" });
      expect((await client.getEventCapabilities()).tier).toBe("studio");

      const revoked = await unary<{ key: { id: string } }>(raw.admin, "RevokeKey", { id: created.key.id }, admin());
      expect(revoked.key.id).toBe(created.key.id);
      await expectCode(client.getEventCapabilities(), status.UNAUTHENTICATED);
      expect((await unary<{ keys: unknown[] }>(raw.admin, "ListKeys", { tenant: "hooli" }, admin())).keys).toEqual([]);
    } finally {
      client.close();
    }
  });

  it("rejects bad tenants and tiers with INVALID_ARGUMENT and unknown keys with NOT_FOUND", async () => {
    for (const tenant of ["", "Acme", "a{b}", "a}b", "a:b", "{acme}", "a".repeat(65), "a b", "@admin"]) {
      await expectCode(unary(raw.admin, "CreateKey", { tenant, tier: "free" }, admin()), status.INVALID_ARGUMENT, /tenant id/);
    }
    await expectCode(
      unary(raw.admin, "CreateKey", { tenant: "ok", tier: "gold" }, admin()),
      status.INVALID_ARGUMENT,
      /unknown tier "gold"/,
    );
    await expectCode(unary(raw.admin, "CreateKey", { tenant: "ok", tier: "__proto__" }, admin()), status.INVALID_ARGUMENT);
    await expectCode(unary(raw.admin, "RevokeKey", { id: "key_0000000000000000" }, admin()), status.NOT_FOUND);
    await expectCode(unary(raw.admin, "SetTier", { keyId: "nope", tier: "free" }, admin()), status.NOT_FOUND);
    await expectCode(unary(raw.admin, "SetTier", { tenant: "never-seen", tier: "free" }, admin()), status.NOT_FOUND);
    expect(new Set((await keyStoreOf(t).list()).map((k) => k.tenant))).toEqual(new Set(["acme"])); // nothing else was created
  });
});
