import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OVERFLOW_TENANT, TenantTally } from "../server/observability/counters.js";
import { tenantKeys } from "../server/redis/layout.js";
import { event, startTestServer, type TestServer, take, waitFor } from "./helpers.js";
import { sample, scrape } from "./opsHelpers.js";

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
    expect(await take(sub, 3)).toHaveLength(3);
    await expect(t.client.publish({ routingKey: "", kref: "not a kref" })).rejects.toThrow();

    await waitFor(
      async () => sample(await scrape(address), "streamgate_active_streams") === sample(before, "streamgate_active_streams"),
      "the stream to close",
    );
    const after = await scrape(address);
    expect(sample(after, published)).toBe(3);
    expect(sample(after, delivered)).toBe(3);
    expect(sample(after, "streamgate_undecodable_entries_total")).toBe(sample(before, "streamgate_undecodable_entries_total") + 1);
    const publishOk = 'streamgate_rpcs_total{method="/streamgate.v1.Streamgate/Publish",code="OK"}';
    expect(sample(after, publishOk)).toBe(sample(before, publishOk) + 1);
    const invalid = 'streamgate_rpc_errors_total{code="INVALID_ARGUMENT"}';
    expect(sample(after, invalid)).toBe(sample(before, invalid) + 1);
    const cancelled = 'streamgate_rpcs_total{method="/streamgate.v1.Streamgate/Subscribe",code="CANCELLED"}';
    expect(sample(after, cancelled)).toBe(sample(before, cancelled) + 1);
    // A client ending its subscription is not an error.
    const cancelledErrors = 'streamgate_rpc_errors_total{code="CANCELLED"}';
    expect(sample(after, cancelledErrors)).toBe(sample(before, cancelledErrors));
    const xadds = 'streamgate_redis_command_duration_seconds_count{command="xadd"}';
    expect(sample(after, xadds)).toBeGreaterThanOrEqual(sample(before, xadds) + 3);
    expect(sample(after, 'streamgate_redis_command_duration_seconds_bucket{le="+Inf",command="xadd"}')).toBe(sample(after, xadds));
    expect(sample(after, "process_resident_memory_bytes")).toBeGreaterThan(0);
  });
});

describe("tenant label cardinality", () => {
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
