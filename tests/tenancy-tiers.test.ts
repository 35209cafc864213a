// Tiers: GetEventCapabilities reports exactly what is enforced, each missing
// capability is refused with PERMISSION_DENIED naming tier and capability,
// and the tiers file is validated. Also the single-tenant `none` mode.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type StreamgateClient } from "../client-sdk/src/index.js";
import { startStreamgate } from "../server/app.js";
import { ConfigError, loadConfig } from "../server/config/loadConfig.js";
import { createLogger } from "../server/observability/logger.js";
import { parseTiers } from "../server/tenancy/loadTiers.js";
import { defaultTiers } from "../server/tenancy/tiers.js";
import { event, redisUrl, startTestServer, type TestServer, take } from "./helpers.js";
import { clientFor, expectCode, md, rawClients, streamStatus, tierSpec, unary } from "./tenancyHelpers.js";

describe("tier enforcement", () => {
  let t: TestServer;
  let raw: ReturnType<typeof rawClients>;
  const tokens: Record<string, string> = {};
  const clients: Record<string, StreamgateClient> = {};

  beforeAll(async () => {
    t = await startTestServer({ auth: "keys" });
    raw = rawClients(t.app.address);
    for (const tier of ["free", "creator", "studio", "enterprise"]) {
      const k = await clientFor(t, `${tier}-co`, tier);
      tokens[tier] = k.token;
      clients[tier] = k.client;
    }
  });
  afterAll(async () => {
    for (const c of Object.values(clients)) c.close();
    raw.close();
    await t.close();
  });

  it("reports each tier's capabilities exactly as the table says", async () => {
    expect(await clients.free!.getEventCapabilities()).toEqual({
      tier: "free",
      supportsCursor: false,
      supportsReplay: false,
      supportsConsumerGroups: false,
      maxRetentionHours: 0,
      maxBufferSize: 100,
    });
    expect(await clients.creator!.getEventCapabilities()).toEqual({
      tier: "creator",
      supportsCursor: true,
      supportsReplay: true,
      supportsConsumerGroups: false,
      maxRetentionHours: 1,
      maxBufferSize: 10_000,
    });
    expect(await clients.studio!.getEventCapabilities()).toMatchObject({ tier: "studio", maxRetentionHours: 24, maxBufferSize: 100_000 });
    expect(await clients.enterprise!.getEventCapabilities()).toEqual({
      tier: "enterprise",
      supportsCursor: true,
      supportsReplay: true,
      supportsConsumerGroups: true,
      maxRetentionHours: 720,
      maxBufferSize: -1,
    });
  });

  it("refuses cursors, replay and consumer groups the tier lacks with PERMISSION_DENIED naming both", async () => {
    const denied = async (tier: string, req: Record<string, unknown>, message: RegExp) => {
      for (const [client, method] of [
        [raw.sg, "Subscribe"],
        [raw.kumiho, "EventStream"],
      ] as const) {
        const s = await streamStatus(client, method, req, md(tokens[tier]));
        expect(s.code, `${tier} ${method} ${JSON.stringify(req)}`).toBe(status.PERMISSION_DENIED);
        expect(s.details).toMatch(message);
      }
    };
    await denied("free", { cursor: "1-0" }, /cursor support.*free tier/);
    await denied("free", { fromCursor: "1-0" }, /cursor support.*free tier/);
    await denied("free", { fromBeginning: true }, /from_beginning needs replay.*free tier/);
    await denied("free", { fromTimestamp: "2026-01-01T00:00:00Z" }, /from_timestamp needs replay.*free tier/);
    await denied("free", { consumerGroup: "workers" }, /consumer groups.*free tier/);
    // The missing capability is the group, whatever start position comes with it.
    await denied("free", { consumerGroup: "workers", fromBeginning: true }, /^consumer groups are not included in the free tier$/);
    const consumer = clients.free!.consume({ group: "workers", fromBeginning: true });
    await expect(consumer.joined).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
      message: expect.stringMatching(/consumer groups are not included in the free tier/),
    });
    consumer.close();
    await denied("creator", { consumerGroup: "workers" }, /consumer groups.*creator tier/);
    await denied("studio", { consumerGroup: "workers" }, /consumer groups.*studio tier/);
    const s = await streamStatus(raw.sg, "Subscribe", { consumerGroup: "workers" }, md(tokens.enterprise));
    expect(s.code).toBe(0); // allowed by the tier: the member joins (the stream opens)
    expect((await streamStatus(raw.sg, "Subscribe", { fromBeginning: true }, md(tokens.creator))).code).toBe(0);
    expect((await streamStatus(raw.sg, "Subscribe", { fromLatest: true }, md(tokens.free))).code).toBe(0);
  });

  it("sends events with an empty cursor to a tier without cursor support, on both stream methods", async () => {
    for (const protocol of ["streamgate", "kumiho"] as const) {
      for (const tier of ["free", "creator"]) {
        const c = createClient({ address: t.app.address, token: tokens[tier], protocol });
        try {
          const sub = c.eventStream();
          await sub.ready;
          const cursor = await c.publish(event(1));
          const [got] = await take(sub, 1);
          expect(got?.details, `${tier} ${protocol}`).toEqual({ i: "1" });
          expect(got?.cursor, `${tier} ${protocol}`).toBe(tier === "free" ? "" : cursor);
        } finally {
          c.close();
        }
      }
    }
  });
});

describe("tiers file", () => {
  it("changes fields of a default tier and keeps the rest", () => {
    const tiers = parseTiers({ creator: { maxBufferSize: 50, publishBurst: 10 } });
    expect(tiers.creator).toEqual({ ...defaultTiers.creator, maxBufferSize: 50, publishBurst: 10 });
    expect(tiers.studio).toEqual(defaultTiers.studio);
  });

  it("adds a tier that sets every field, with fractional retention hours", () => {
    const tiers = parseTiers({ lab: tierSpec({ maxRetentionHours: 0.25 }) });
    expect(tiers.lab).toMatchObject({ name: "lab", maxRetentionHours: 0.25 });
  });

  it("rejects invalid tiers with a message naming the problem", () => {
    const bad: [unknown, RegExp][] = [
      [[], /JSON object/],
      [{ creator: { maxBufferSize: 0 } }, /creator.*maxBufferSize must be -1 \(unlimited\) or an integer >= 1, got 0/],
      [{ creator: { maxBufferSize: 1.5 } }, /maxBufferSize/],
      [{ creator: { supportsCursor: "yes" } }, /supportsCursor must be true or false/],
      [{ creator: { maxRetentionHours: -2 } }, /maxRetentionHours/],
      [{ creator: { colour: "red" } }, /unknown field "colour"/],
      [{ lab: { supportsCursor: true } }, /new tier "lab" must set supportsReplay, supportsConsumerGroups/],
      [{ "Bad Name": tierSpec() }, /tier name "Bad Name"/],
      [{ creator: { maxRetentionHours: 0 } }, /need maxRetentionHours other than 0/],
      [{ creator: { publishRatePerSecond: -1 } }, /both be -1/],
      [{ creator: { publishRatePerSecond: 0 } }, /publishRatePerSecond must be/],
      [{ creator: null }, /must be a JSON object/],
      [{ free: { supportsConsumerGroups: true } }, /tier "free" supports consumer groups, which need supportsCursor/],
    ];
    for (const [doc, message] of bad) expect(() => parseTiers(doc), JSON.stringify(doc)).toThrow(message);
    expect(() => parseTiers({ creator: { maxBufferSize: 0 } })).toThrow(ConfigError);
  });

  it("stops the server from starting when the file is missing or invalid", async () => {
    const log = createLogger("silent");
    const config = loadConfig({}, { listen: "127.0.0.1:0", metricsListen: "off", tiersFile: "/nonexistent/tiers.json" });
    await expect(startStreamgate({ config, log, redisUrl: redisUrl() })).rejects.toThrow(/STREAMGATE_TIERS_FILE: cannot read/);
  });
});

describe("auth none", () => {
  const log = createLogger("silent");

  it("refuses to start on a non-loopback address unless insecure none auth is allowed explicitly", async () => {
    for (const listen of ["0.0.0.0:0", "[::]:0", "10.1.2.3:0"]) {
      const config = loadConfig({}, { listen, metricsListen: "off" });
      await expect(startStreamgate({ config, log, redisUrl: redisUrl() })).rejects.toThrow(/STREAMGATE_ALLOW_INSECURE_NONE_AUTH=true/);
    }
    const t = await startTestServer({ listen: "0.0.0.0:0", allowInsecureNoneAuth: true });
    try {
      const c = createClient({ address: `127.0.0.1:${t.app.port}` });
      expect((await c.getEventCapabilities()).tier).toBe("enterprise");
      c.close();
    } finally {
      await t.close();
    }
  });

  it("serves the configured tenant on the configured tier, enforcing it, without credentials", async () => {
    const t = await startTestServer({ tenant: "solo", tier: "creator" });
    const raw = rawClients(t.app.address);
    try {
      expect(await t.client.getEventCapabilities()).toMatchObject({ tier: "creator", supportsConsumerGroups: false });
      const cursor = await t.client.publish(event(1));
      const [got] = await take(t.client.eventStream({ fromBeginning: true }), 1);
      expect(got).toMatchObject({ cursor, tenantId: "solo" });
      await expectCode(unary(raw.kumiho, "GetEventCapabilities", {}, md(undefined, { "x-tenant-id": "other" })), status.PERMISSION_DENIED);
      expect((await streamStatus(raw.sg, "Subscribe", { consumerGroup: "g" }, md())).details).toMatch(/creator tier/);
    } finally {
      raw.close();
      await t.close();
    }
  });

  it("refuses an invalid tenant id or unknown tier at start", async () => {
    await expect(
      startStreamgate({
        config: loadConfig({}, { listen: "127.0.0.1:0", metricsListen: "off", tenant: "a:b" }),
        log,
        redisUrl: redisUrl(),
      }),
    ).rejects.toThrow(/STREAMGATE_TENANT: tenant id "a:b" is invalid/);
    await expect(
      startStreamgate({ config: loadConfig({}, { listen: "127.0.0.1:0", metricsListen: "off", tier: "gold" }), log, redisUrl: redisUrl() }),
    ).rejects.toThrow(/STREAMGATE_TIER: unknown tier "gold"/);
  });

  it("keeps the Admin service closed when no admin key is configured", async () => {
    const t = await startTestServer();
    const raw = rawClients(t.app.address);
    try {
      await expectCode(unary(raw.admin, "ListKeys", {}, md("anything-at-all-long")), status.PERMISSION_DENIED, /disabled/);
      await expectCode(unary(raw.admin, "ListKeys", {}, md()), status.UNAUTHENTICATED);
    } finally {
      raw.close();
      await t.close();
    }
  });
});
