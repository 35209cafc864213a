// Per-tenant quotas: concurrent streams (shared by all replicas through Redis)
// and publish rate (token bucket). Exceeding one is RESOURCE_EXHAUSTED naming
// the limit; other tenants are unaffected; a tier change moves the limit.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type EventSubscription, type StreamgateClient } from "../client-sdk/src/index.js";
import { event, startTestServer, type TestServer, waitFor } from "./helpers.js";
import { clientFor, expectCode, keyStoreOf, tierSpec, tiersFile } from "./tenancyHelpers.js";

describe("quotas", () => {
  let t: TestServer;
  let replica: TestServer;
  const clients: StreamgateClient[] = [];
  const subs: EventSubscription[] = [];
  const keyed = async (tenant: string, tier = "limited") => {
    const k = await clientFor(t, tenant, tier);
    clients.push(k.client);
    return k;
  };
  const open = (client: StreamgateClient) => {
    const sub = client.eventStream();
    subs.push(sub);
    return sub;
  };

  beforeAll(async () => {
    // A refill of one event per 100 s: the bucket cannot refill while a test runs, however slow the machine.
    const tiers = tiersFile({ limited: tierSpec({ maxConcurrentStreams: 2, publishRatePerSecond: 0.01, publishBurst: 3 }) });
    t = await startTestServer({ auth: "keys", tiersFile: tiers });
    // A second replica on the same Redis and prefix.
    replica = await startTestServer({ auth: "keys", tiersFile: tiers, keyPrefix: t.config.keyPrefix });
  });
  afterAll(async () => {
    for (const s of subs) s.close();
    for (const c of clients) c.close();
    await replica.close();
    await t.close();
  });

  it("limits a tenant's publish rate with RESOURCE_EXHAUSTED, leaving other tenants unaffected", async () => {
    const a = await keyed("rate-a");
    const b = await keyed("rate-b");
    for (let i = 0; i < 3; i++) await a.client.publish(event(i));
    await expectCode(
      a.client.publish(event(3)),
      status.RESOURCE_EXHAUSTED,
      /rate-a exceeded the limited tier's publish rate limit \(0.01 events\/s, burst 3\)/,
    );
    await expectCode(a.client.publishBatch([event(4)]), status.RESOURCE_EXHAUSTED, /publish rate/);
    await b.client.publishBatch([event(1), event(2), event(3)]);
    await expectCode(b.client.publishBatch([event(1)]), status.RESOURCE_EXHAUSTED);
    const c = await keyed("rate-c");
    await expectCode(
      c.client.publishBatch([event(1), event(2), event(3), event(4)]),
      status.RESOURCE_EXHAUSTED,
      /batch of 4 events is larger than/,
    );
    await c.client.publish(event(5)); // the refused batch took nothing
  });

  it("limits a tenant's concurrent streams across replicas, leaving other tenants unaffected", async () => {
    const a = await keyed("streams-a");
    const s1 = open(a.client);
    const s2 = open(a.client);
    await Promise.all([s1.ready, s2.ready]);
    const third = await open(a.client).closed;
    expect(third?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(third?.message).toMatch(/streams-a has 2 open streams, the limited tier's limit of concurrent streams \(2\)/);

    const onReplica = createClient({ address: replica.app.address, token: a.token });
    clients.push(onReplica);
    expect((await open(onReplica).closed)?.code).toBe(status.RESOURCE_EXHAUSTED);

    const b = await keyed("streams-b");
    await open(b.client).ready;

    s1.close();
    await waitFor(async () => (await t.redis.zcard(`${t.config.keyPrefix}:{streams-a}:streams`)) === 1, "the closed stream's lease to go");
    const again = open(onReplica);
    await again.ready;
  });

  it("moves the limits with the tenant's tier", async () => {
    const a = await keyed("upgrade");
    await Promise.all([open(a.client).ready, open(a.client).ready]);
    expect((await open(a.client).closed)?.code).toBe(status.RESOURCE_EXHAUSTED);
    for (let i = 0; i < 3; i++) await a.client.publish(event(i));
    await expectCode(a.client.publish(event(3)), status.RESOURCE_EXHAUSTED);

    await keyStoreOf(t).setTier({ keyId: a.id }, "enterprise");
    await open(a.client).ready;
    await a.client.publish(event(4));
  });
});
