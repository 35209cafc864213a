// Two tenants and adversarial requests: no cursor, filter, header, consumer
// group name or tenant name lets one read, count or change the other's events.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Event, StreamgateClient } from "../client-sdk/src/index.js";
import { tenantKeys } from "../server/redis/layout.js";
import { event, startTestServer, type TestServer, take } from "./helpers.js";
import { clientFor, expectCode, keyStoreOf, md, rawClients, streamStatus, unary } from "./tenancyHelpers.js";

describe("tenant isolation", () => {
  let t: TestServer;
  let raw: ReturnType<typeof rawClients>;
  let alpha: { client: StreamgateClient; token: string };
  let beta: { client: StreamgateClient; token: string };
  const alphaCursors: string[] = [];
  const betaCursors: string[] = [];
  const alphaEvent = (i: number) => ({ ...event(i), kref: `kref://alpha-secret/shots/sh${i}.model?r=1`, details: { owner: "alpha" } });

  /** Everything `client` receives from `opts` up to a marker it publishes itself. */
  const receivedBy = async (client: StreamgateClient, opts: Parameters<StreamgateClient["eventStream"]>[0]): Promise<Event[]> => {
    const sub = client.eventStream(opts);
    await sub.ready;
    const marker = await client.publish({ ...event(999), routingKey: "marker.end", kref: "kref://alpha-secret/shots/marker.model" });
    const out: Event[] = [];
    for await (const e of sub) {
      if (e.cursor === marker) break;
      out.push(e);
    }
    betaCursors.push(marker);
    return out;
  };

  beforeAll(async () => {
    t = await startTestServer({ auth: "keys" });
    raw = rawClients(t.app.address);
    alpha = await clientFor(t, "alpha", "enterprise");
    beta = await clientFor(t, "beta", "enterprise");
    // Interleaved, so alpha's cursors fall between beta's.
    for (let i = 0; i < 3; i++) {
      alphaCursors.push(await alpha.client.publish(alphaEvent(i)));
      betaCursors.push(await beta.client.publish(event(i)));
    }
    alphaCursors.push(await alpha.client.publish(alphaEvent(3)));
  });
  afterAll(async () => {
    alpha.client.close();
    beta.client.close();
    raw.close();
    await t.close();
  });

  it("replays only the caller's own events, whatever the filter", async () => {
    for (const opts of [
      { fromBeginning: true },
      { fromBeginning: true, krefFilter: "kref://alpha-secret/**" },
      { fromBeginning: true, routingKeyFilter: "#" },
      { fromTimestamp: new Date(0) },
    ]) {
      const got = await receivedBy(beta.client, opts);
      expect(
        got.every((e) => e.tenantId === "beta" && e.details.owner !== "alpha"),
        JSON.stringify(opts),
      ).toBe(true);
      expect(got.filter((e) => alphaCursors.includes(e.cursor))).toEqual([]);
    }
  });

  it("refuses another tenant's cursor with DATA_LOSS: it is not from the caller's stream, and reveals nothing", async () => {
    // Cursors carry their stream's epoch: alpha's are from no history of beta's stream.
    const closed = await beta.client.eventStream({ cursor: alphaCursors[1], resume: false }).closed;
    expect(closed?.code).toBe(status.DATA_LOSS);
    expect(closed?.message).not.toMatch(/alpha/);

    // A fresh tenant (no stream yet) likewise.
    const gamma = await clientFor(t, "gamma", "enterprise");
    try {
      const refused = await gamma.client.eventStream({ cursor: alphaCursors[3] }).closed;
      expect(refused?.code).toBe(status.DATA_LOSS);
      expect(refused?.message).not.toMatch(/alpha/);
    } finally {
      gamma.client.close();
    }
  });

  it("refuses x-tenant-id naming another tenant on every RPC, with no effect on that tenant", async () => {
    const before = await t.redis.xlen(tenantKeys(t.config.keyPrefix, "alpha").events);
    const spoof = md(beta.token, { "x-tenant-id": "alpha" });
    await expectCode(
      unary(raw.sg, "Publish", { routingKey: "evil.write", kref: { uri: "kref://p/s/n.k" } }, spoof),
      status.PERMISSION_DENIED,
    );
    await expectCode(
      unary(raw.sg, "PublishBatch", { events: [{ routingKey: "evil.write", kref: { uri: "kref://p/s/n.k" } }] }, spoof),
      status.PERMISSION_DENIED,
    );
    await expectCode(unary(raw.kumiho, "GetEventCapabilities", {}, spoof), status.PERMISSION_DENIED);
    expect((await streamStatus(raw.sg, "Subscribe", { fromBeginning: true }, spoof)).code).toBe(status.PERMISSION_DENIED);
    expect((await streamStatus(raw.kumiho, "EventStream", { fromBeginning: true }, spoof)).code).toBe(status.PERMISSION_DENIED);
    expect(await t.redis.xlen(tenantKeys(t.config.keyPrefix, "alpha").events)).toBe(before);
  });

  it("gives consumer group names no reach into another tenant", async () => {
    const before = await t.redis.xlen(tenantKeys(t.config.keyPrefix, "alpha").events);
    for (const group of ["{alpha}:events", "../alpha", `${t.config.keyPrefix}:{alpha}:events`, "*", "alpha}"]) {
      const s = await streamStatus(raw.sg, "Subscribe", { consumerGroup: group, fromBeginning: true }, md(beta.token));
      expect(s.code, group).toBe(status.INVALID_ARGUMENT);
    }
    // A valid name that is another tenant's id makes a group in the caller's own stream only.
    const s = await streamStatus(raw.sg, "Subscribe", { consumerGroup: "alpha", fromBeginning: true }, md(beta.token));
    expect(s.code).toBe(0);
    const betaGroups = (await t.redis.xinfo("GROUPS", tenantKeys(t.config.keyPrefix, "beta").events)) as unknown[][];
    expect(betaGroups.map((g) => g[1])).toEqual(["alpha"]);
    expect(await t.redis.xlen(tenantKeys(t.config.keyPrefix, "alpha").events)).toBe(before);
    expect(await t.redis.xinfo("GROUPS", tenantKeys(t.config.keyPrefix, "alpha").events)).toEqual([]);
    expect((await beta.client.groups.list()).map((g) => g.group)).toEqual(["alpha"]);
    expect(await alpha.client.groups.list()).toEqual([]);
  });

  it("refuses tenant names that could reach into another tenant's keys", async () => {
    const store = keyStoreOf(t);
    for (const tenant of ["alpha}:x", "{alpha}", "alpha:events", "beta}", "a{alpha", "ALPHA", "alpha ", "alpha\n", ""]) {
      await expect(store.create({ tenant, tier: "enterprise" }), JSON.stringify(tenant)).rejects.toThrow(/tenant id .* is invalid/);
    }
    expect(new Set((await store.list()).map((k) => k.tenant))).toEqual(new Set(["alpha", "beta", "gamma"]));
  });

  it("stamps the caller's tenant on what it publishes and keeps every key under a tenant's or the admin hash tag", async () => {
    const [got] = await take(beta.client.eventStream({ cursor: betaCursors[0] }), 1);
    expect(got?.tenantId).toBe("beta");
    const keys = await t.redis.keys(`${t.config.keyPrefix}:*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key).toMatch(
        new RegExp(
          `^${t.config.keyPrefix}:\\{(alpha|beta|gamma|@admin)\\}:([a-z-]+|dedup:[ab]|group:[A-Za-z0-9_.-]+(:retry|:dlq|:errors)?)$`,
        ),
      );
    }
  });
});
