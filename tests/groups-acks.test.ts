// Acks are merged on their way to Redis (per event-loop turn in the SDK, per
// batch on the server); none may be lost or reordered against nacks on the way.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GroupDelivery } from "../client-sdk/src/index.js";
import { event, startTestServer, type TestServer, waitFor } from "./helpers.js";

describe("consumer-group acks", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ groupClaimIntervalMs: 50 });
  });
  afterAll(async () => {
    await t.close();
  });

  it("acks made just before leaving still reach Redis: nothing is pending afterwards", async () => {
    const member = t.client.consume({ group: "acks-close", member: "m", routingKeyFilter: "job.close", ackTimeoutMs: 60_000 });
    await member.joined;
    await t.client.publishBatch(Array.from({ length: 50 }, (_, i) => event(i, "job.close")));
    let n = 0;
    for await (const d of member) {
      d.ack();
      if (++n === 50) break; // leaves in the same turn as the last ack
    }
    await waitFor(async () => (await t.client.groups.describe("acks-close")).pending === 0, "no pending deliveries");
  });

  it("a nack after acks in the same turn redelivers only the nacked event, with its error kept", async () => {
    const member = t.client.consume({ group: "acks-order", routingKeyFilter: "job.order", maxDeliveries: 2, ackTimeoutMs: 60_000 });
    await member.joined;
    const cursors = await t.client.publishBatch(Array.from({ length: 5 }, (_, i) => event(i, "job.order")));
    const seen: GroupDelivery[] = [];
    for await (const d of member) {
      seen.push(d);
      if (d.event.cursor === cursors[2]) d.nack("boom");
      else d.ack();
      if (seen.length === 6) break; // five, then the nacked one again
    }
    expect(seen.map((d) => d.event.cursor)).toEqual([...cursors, cursors[2]]);
    expect(seen[5]?.deliveryCount).toBe(2);
  });
});
