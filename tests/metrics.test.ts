import { randomUUID } from "node:crypto";
import type { ClientReadableStream, Metadata, ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../client-sdk/src/index.js";
import { OVERFLOW_TENANT, TenantTally, tenantCounters } from "../server/observability/counters.js";
import { withCommands } from "../server/redis/commands.js";
import { tenantKeys } from "../server/redis/layout.js";
import { trimStream } from "../server/retention/trimStream.js";
import { type ResolveCaller, singleTenant } from "../server/tenancy/caller.js";
import { defaultTiers, type Tier } from "../server/tenancy/tiers.js";
import { event, startTestServer, type TestServer, take, waitFor } from "./helpers.js";
import { sample, scrape } from "./opsHelpers.js";
import { md, rawClients } from "./tenancyHelpers.js";

/**
 * An event of about 16 KB: a few of them fill a stream's HTTP/2 flow-control window (64 KB by
 * default), and the whole history this file writes stays far below gRPC's 4 MB message limit.
 */
function bigEvent(i: number) {
  const details: Record<string, string> = { i: String(i) };
  for (let k = 0; k < 2; k++) details[`pad${k}`] = "x".repeat(8000);
  return { ...event(i), details };
}

/**
 * A Subscribe call whose client stops reading: the paused stream takes 16 messages (its
 * buffer), then grpc-js stops reading the HTTP/2 stream, so flow control blocks the server's
 * writes to it (a stalled consumer). A call nobody ever reads would not do: grpc-js buffers
 * such a call's messages without limit.
 */
function stalledSubscriber(address: string, request: Record<string, unknown>) {
  const raw = rawClients(address);
  const call = (raw.sg as unknown as { Subscribe(req: unknown, md: Metadata): ClientReadableStream<unknown> }).Subscribe(request, md());
  call.on("data", () => {});
  call.pause();
  const registered = new Promise<void>((res) => call.once("metadata", () => res()));
  const ended = new Promise<ServiceError>((res) => call.once("error", res));
  return {
    registered,
    /** Reads again (the consumer recovers); resolves with the status the call ends with. */
    resume(): Promise<ServiceError> {
      call.resume();
      return ended;
    },
    close() {
      call.cancel();
      raw.close();
    },
  };
}

describe("Prometheus metrics listener", () => {
  let t: TestServer;
  // Counters are per process and other files share it: a tenant of our own keeps our series apart.
  const tenant = `metrics-${randomUUID()}`;
  const published = `streamgate_events_published_total{tenant="${tenant}"}`;
  const delivered = `streamgate_events_delivered_total{tenant="${tenant}"}`;

  beforeAll(async () => {
    t = await startTestServer({ metricsListen: "127.0.0.1:0", tenant });
  });
  afterAll(async () => {
    await t.close();
  });

  it("serves the text exposition format at /metrics only", async () => {
    const address = t.app.metricsAddress;
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    const res = await fetch(`http://${address}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const body = await res.text();
    expect(body).toContain("# TYPE streamgate_events_published_total counter");
    expect(body).toContain("# TYPE streamgate_subscriber_queue_depth histogram");
    expect(body).toContain("# TYPE process_cpu_user_seconds_total counter");
    expect(body).toContain("# TYPE nodejs_eventloop_lag_seconds gauge");
    expect((await fetch(`http://${address}/other`)).status).toBe(404);
    expect((await fetch(`http://${address}/metrics`, { method: "POST" })).status).toBe(405);
  });

  it("counts consumer-group members as active streams, and as group members", async () => {
    const address = t.app.metricsAddress as string;
    const before = await scrape(address);
    const consumer = t.client.consume({ group: `metrics-${randomUUID().slice(0, 8)}`, member: "m1" });
    await consumer.joined;
    const during = await scrape(address);
    expect(sample(during, "streamgate_active_streams")).toBe(sample(before, "streamgate_active_streams") + 1);
    expect(sample(during, "streamgate_group_members")).toBe(sample(before, "streamgate_group_members") + 1);
    consumer.close();
    await waitFor(
      async () => sample(await scrape(address), "streamgate_group_members") === sample(before, "streamgate_group_members"),
      "the member to leave",
    );
    expect(sample(await scrape(address), "streamgate_active_streams")).toBe(sample(before, "streamgate_active_streams"));
  });

  it("counts publishing, delivery, subscribers, Redis latency and errors as they happen", async () => {
    const address = t.app.metricsAddress as string;
    const before = await scrape(address);
    expect(sample(before, "streamgate_serving")).toBe(1);

    const sub = t.client.eventStream({});
    await sub.ready;
    const during = await scrape(address);
    expect(sample(during, "streamgate_active_streams")).toBe(sample(before, "streamgate_active_streams") + 1);
    expect(sample(during, 'streamgate_subscribers{phase="live"}')).toBe(sample(before, 'streamgate_subscribers{phase="live"}') + 1);
    expect(sample(during, "streamgate_stream_readers")).toBeGreaterThanOrEqual(1);
    expect(sample(during, "streamgate_subscriber_queue_depth_count")).toBe(sample(before, "streamgate_subscriber_queue_depth_count") + 1);
    expect(sample(during, 'streamgate_subscriber_queue_depth_bucket{le="0"}')).toBe(
      sample(before, 'streamgate_subscriber_queue_depth_bucket{le="0"}') + 1,
    );

    // An entry some other producer wrote badly: skipped by the reader, and counted.
    await t.redis.xadd(tenantKeys(t.config.keyPrefix, tenant).events, "*", "not_an_event", "1");
    await t.client.publish(event(1));
    await t.client.publishBatch([event(2), event(3)]);
    // A repeat of an idempotency key is answered from the duplicate window: counted, not appended.
    const key = `metrics-${tenant}`;
    const original = await t.client.publish({ ...event(4), idempotencyKey: key });
    expect(await t.client.publish({ ...event(4), idempotencyKey: key })).toBe(original);
    expect(await take(sub, 4)).toHaveLength(4);
    await expect(t.client.publish({ routingKey: "", kref: "not a kref" })).rejects.toThrow();

    await waitFor(
      async () => sample(await scrape(address), "streamgate_active_streams") === sample(before, "streamgate_active_streams"),
      "the stream to close",
    );
    const after = await scrape(address);
    expect(sample(after, published)).toBe(4);
    expect(sample(after, delivered)).toBe(4);
    expect(sample(after, "streamgate_publish_deduplicated_total")).toBe(sample(before, "streamgate_publish_deduplicated_total") + 1);
    expect(sample(after, "streamgate_undecodable_entries_total")).toBe(sample(before, "streamgate_undecodable_entries_total") + 1);
    const publishOk = 'streamgate_rpcs_total{method="/streamgate.v1.Streamgate/Publish",code="OK"}';
    expect(sample(after, publishOk)).toBe(sample(before, publishOk) + 3);
    const invalid = 'streamgate_rpc_errors_total{code="INVALID_ARGUMENT"}';
    expect(sample(after, invalid)).toBe(sample(before, invalid) + 1);
    const cancelled = 'streamgate_rpcs_total{method="/streamgate.v1.Streamgate/Subscribe",code="CANCELLED"}';
    expect(sample(after, cancelled)).toBe(sample(before, cancelled) + 1);
    // A client ending its subscription is not an error.
    const cancelledErrors = 'streamgate_rpc_errors_total{code="CANCELLED"}';
    expect(sample(after, cancelledErrors)).toBe(sample(before, cancelledErrors));
    // Every publish, single or batch, is one script (EVALSHA) that appends its events, checking their idempotency keys.
    const scripts = 'streamgate_redis_command_duration_seconds_count{command="evalsha"}';
    expect(sample(after, scripts)).toBeGreaterThanOrEqual(sample(before, scripts) + 4);
    expect(sample(after, 'streamgate_redis_command_duration_seconds_bucket{le="+Inf",command="evalsha"}')).toBe(sample(after, scripts));
    expect(sample(after, "process_resident_memory_bytes")).toBeGreaterThan(0);
  });
});

describe("metrics of stalled and slow subscribers", () => {
  let t: TestServer;
  const tenant = `metrics-slow-${randomUUID()}`;

  beforeAll(async () => {
    // The smallest queue the configuration allows, so a stalled subscriber overflows after a few events; and one
    // event per read and per catch-up page, so live and replayed events reach a client in messages of the same size.
    t = await startTestServer({ metricsListen: "127.0.0.1:0", tenant, subscriberQueue: 16, readBatch: 1, retentionSweepMs: 0 });
  });
  afterAll(async () => {
    await t.close();
  });

  it("shows a stalled subscriber's queue in the depth buckets, a replaying one in phase catchup, and counts the one shed", async () => {
    const address = t.app.metricsAddress as string;
    const before = await scrape(address);
    const series = (name: string, s = before) => sample(s, name);

    const live = stalledSubscriber(t.app.address, {});
    let replay: ReturnType<typeof stalledSubscriber> | undefined;
    try {
      await live.registered;
      // Publish until the stalled subscriber's queue is not empty: its depth leaves the le="0" bucket.
      let i = 0;
      await waitFor(async () => {
        await t.client.publish(bigEvent(++i));
        const now = await scrape(address);
        return series("streamgate_subscriber_queue_depth_sum", now) > 0;
      }, "a queued event");
      const queued = await scrape(address);
      const count = series("streamgate_subscriber_queue_depth_count", queued);
      expect(count).toBe(series("streamgate_subscriber_queue_depth_count") + 1);
      expect(series('streamgate_subscriber_queue_depth_bucket{le="0"}', queued)).toBe(count - 1);
      expect(series('streamgate_subscriber_queue_depth_bucket{le="+Inf"}', queued)).toBe(count);
      expect(series('streamgate_subscriber_queue_depth_bucket{le="100"}', queued)).toBe(count);

      // Past its queue limit it stops taking live events (it would continue from Redis once it drains).
      await waitFor(async () => {
        await t.client.publish(bigEvent(++i));
        return series("streamgate_slow_consumer_catchups_total", await scrape(address)) > series("streamgate_slow_consumer_catchups_total");
      }, "the queue to overflow");
      expect(series("streamgate_slow_consumer_catchups_total", await scrape(address))).toBe(
        series("streamgate_slow_consumer_catchups_total") + 1,
      );
      await t.client.publish(bigEvent(++i)); // at least two events it did not take

      // A replay of this history cannot finish while its client does not read: the live subscriber stalled after
      // fewer events than the history now holds, so the replay (the same messages) stalls before its end, in catch-up.
      replay = stalledSubscriber(t.app.address, { fromBeginning: true });
      await replay.registered;
      const replaying = await scrape(address);
      expect(series('streamgate_subscribers{phase="catchup"}', replaying)).toBe(series('streamgate_subscribers{phase="catchup"}') + 1);
      expect(series('streamgate_subscribers{phase="live"}', replaying)).toBe(series('streamgate_subscribers{phase="live"}') + 1);
      replay.close();

      // Retention trims what the slow subscriber had not taken yet: when it reads again it is shed, not silently skipped.
      const buffer1: Tier = { ...(defaultTiers.enterprise as Tier), name: "tiny", maxBufferSize: 1, maxRetentionHours: -1 };
      expect(await trimStream(withCommands(t.redis), tenantKeys(t.config.keyPrefix, tenant), buffer1)).toBe(i - 1);
      const shed = await live.resume();
      expect(shed.code).toBe(8); // RESOURCE_EXHAUSTED
      expect(shed.metadata.get("streamgate-reason")).toEqual(["slow-consumer"]);
      const after = await scrape(address);
      expect(series("streamgate_slow_consumer_disconnects_total", after)).toBe(series("streamgate_slow_consumer_disconnects_total") + 1);
      await waitFor(
        async () => series("streamgate_active_streams", await scrape(address)) === series("streamgate_active_streams"),
        "streams to close",
      );
    } finally {
      live.close();
      replay?.close();
    }
  });
});

describe("tenant label cardinality", () => {
  it('sums the tenants past STREAMGATE_METRICS_MAX_TENANTS under tenant="other" in the scraped series', async () => {
    // The limit counts every tenant this process has seen; leave room for exactly two more.
    const seen = [...tenantCounters.published.entries()].filter(([name]) => name !== OVERFLOW_TENANT).length;
    const token = (md: Metadata) => String(md.get("authorization")[0] ?? "").replace(/^Bearer /, "");
    const byToken: ResolveCaller = (metadata) => singleTenant(token(metadata))(metadata);
    const t = await startTestServer({ metricsListen: "127.0.0.1:0", metricsMaxTenants: seen + 2 }, byToken);
    const run = randomUUID().slice(0, 8);
    const tenants = [1, 2, 3, 4].map((n) => `card-${run}-${n}`);
    const clients = tenants.map((tenant) => createClient({ address: t.app.address, token: tenant }));
    try {
      const address = t.app.metricsAddress as string;
      const other = 'streamgate_events_published_total{tenant="other"}';
      const before = sample(await scrape(address), other);
      for (const [n, client] of clients.entries()) {
        for (let k = 0; k <= n; k++) await client.publish(event(k)); // tenant n publishes n + 1 events
      }
      const after = await scrape(address);
      expect(sample(after, `streamgate_events_published_total{tenant="${tenants[0]}"}`)).toBe(1);
      expect(sample(after, `streamgate_events_published_total{tenant="${tenants[1]}"}`)).toBe(2);
      expect(after.has(`streamgate_events_published_total{tenant="${tenants[2]}"}`)).toBe(false);
      expect(after.has(`streamgate_events_published_total{tenant="${tenants[3]}"}`)).toBe(false);
      expect(sample(after, other)).toBe(before + 3 + 4);
      // The first tenants keep their own series for the life of the process (counters stay monotonic).
      await clients[0]?.publish(event(9));
      expect(sample(await scrape(address), `streamgate_events_published_total{tenant="${tenants[0]}"}`)).toBe(2);
    } finally {
      for (const c of clients) c.close();
      await t.close();
    }
  });

  it("keeps the first tenants' own series and sums the rest under one overflow series", () => {
    const tally = new TenantTally(2);
    tally.add("a", 1);
    tally.add("b", 2);
    tally.add("c", 3);
    tally.add("d", 4);
    tally.add("a", 5);
    tally.add("c", 6);
    expect(Object.fromEntries(tally.entries())).toEqual({ a: 6, b: 2, [OVERFLOW_TENANT]: 13 });
  });
});
