import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, type StreamgateClientError } from "../client-sdk/src/index.js";
import { withCommands } from "../server/redis/commands.js";
import { tenantKeys } from "../server/redis/layout.js";
import { drainCall, event, rawKumihoClient, startTestServer, type TestServer, take } from "./helpers.js";

async function expectCode(p: Promise<unknown>, code: number, message: RegExp): Promise<StreamgateClientError> {
  const err = (await p.then(
    () => {
      throw new Error("expected an error");
    },
    (e: unknown) => e,
  )) as StreamgateClientError;
  expect(err.name).toBe("StreamgateClientError");
  expect(Code[err.code]).toBe(Code[code]);
  expect(err.message).toMatch(message);
  return err;
}

describe("EventStream start positions", () => {
  let t: TestServer;
  let cursors: string[];
  beforeAll(async () => {
    t = await startTestServer();
    cursors = [];
    for (let i = 0; i < 5; i++) {
      cursors.push(await t.client.publish(event(i)));
      await sleep(3); // distinct milliseconds, for from_timestamp
    }
  });
  afterAll(async () => {
    await t.close();
  });

  it("by default delivers only events published after the subscription is ready", async () => {
    const sub = t.client.eventStream();
    await sub.ready;
    const c = await t.client.publish(event(100));
    const [got] = await take(sub, 1);
    expect(got?.cursor).toBe(c);
  });

  it("from a cursor delivers every event strictly after it, then continues live", async () => {
    const sub = t.client.eventStream({ cursor: cursors[1] });
    const got = await take(sub, 3);
    expect(got.map((e) => e.cursor)).toEqual(cursors.slice(2, 5));
  });

  it("from_beginning replays everything retained", async () => {
    const got = await take(t.client.eventStream({ fromBeginning: true }), 5);
    expect(got.map((e) => e.cursor)).toEqual(cursors);
  });

  it("from_timestamp delivers every event at or after that time", async () => {
    const ms = Number(cursors[3]?.split("-")[0]);
    const got = await take(t.client.eventStream({ fromTimestamp: new Date(ms).toISOString() }), 2);
    expect(got.map((e) => e.cursor)).toEqual(cursors.slice(3, 5));
  });

  it("applies filters during catch-up as well as live", async () => {
    await t.client.publish(event(7, "edge.created", "kref://other/x/y.z"));
    const sub = t.client.eventStream({ fromBeginning: true, routingKeyFilter: "edge.*" });
    const [got] = await take(sub, 1);
    expect(got?.routingKey).toBe("edge.created");
    expect(got?.kref.project).toBe("other");
  });

  it("serves Kumiho's one-event-per-message EventStream with the same semantics", async () => {
    const { createClient } = await import("../client-sdk/src/index.js");
    const kumiho = createClient({ address: t.app.address, protocol: "kumiho" });
    const got = await take(kumiho.eventStream({ cursor: cursors[2] }), 2);
    kumiho.close();
    expect(got.map((e) => e.cursor)).toEqual(cursors.slice(3, 5));
    expect(got[0]?.tenantId).toBe("default");
  });
});

describe("EventStream errors", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
    await t.client.publish(event(1));
  });
  afterAll(async () => {
    await t.close();
  });

  it.each([
    ["not-a-cursor"],
    ["12"],
    ["1-2-3"],
    ["-1-0"],
    ["99999999999999999999-0"],
  ])("malformed cursor %j: INVALID_ARGUMENT", async (cursor) => {
    await expectCode(take(t.client.eventStream({ cursor }), 1), Code.INVALID_ARGUMENT, /malformed/);
  });

  it("a cursor beyond the stream's last event (Redis lost data): DATA_LOSS, with the cursor in the trailers", async () => {
    const future = `${Date.now() + 86_400_000}-0`;
    const err = await expectCode(take(t.client.eventStream({ cursor: future }), 1), Code.DATA_LOSS, /no longer has/);
    expect(err.trailers["streamgate-reason"]).toBe("data-loss");
    expect(err.trailers["streamgate-last-cursor"]).toBe(future);
  });

  it("a cursor older than what is retained: OUT_OF_RANGE naming the earliest cursor", async () => {
    const first = await t.client.publish(event(2));
    const second = await t.client.publish(event(3));
    const third = await t.client.publish(event(4));
    const keys = tenantKeys(t.config.keyPrefix, "default");
    // Keep the last two entries (exact trim records the highest removed ID).
    await withCommands(t.redis).sgTrim(keys.events, keys.trimmed, 2, "0-0", 0);
    const err = await expectCode(take(t.client.eventStream({ cursor: "1-0" }), 1), Code.OUT_OF_RANGE, /older than the retained window/);
    expect(err.message).toContain(second);
    expect(err.trailers["streamgate-earliest-cursor"]).toBe(second);
    // The last trimmed event's own cursor has no gap after it: still resumable.
    const got = await take(t.client.eventStream({ cursor: first }), 2);
    expect(got.map((e) => e.cursor)).toEqual([second, third]);
  });

  it.each([
    [{ routingKeyFilter: "Bad.Key" }, /routing_key_filter/],
    [{ krefFilter: "kref://film/+(a|aa)" }, /may only use letters, digits/],
    [{ routingKeyFilter: `${"a.".repeat(600)}b` }, /limit/],
    [{ fromTimestamp: "yesterday" }, /ISO-8601/],
  ])("bad request %#: INVALID_ARGUMENT", async (opts, message) => {
    await expectCode(take(t.client.eventStream(opts), 1), Code.INVALID_ARGUMENT, message);
  });

  it("capabilities report the enterprise tier exactly as enforced", async () => {
    const caps = await t.client.getEventCapabilities();
    expect(caps).toEqual({
      supportsReplay: true,
      supportsCursor: true,
      supportsConsumerGroups: true,
      maxRetentionHours: 720,
      maxBufferSize: -1,
      tier: "enterprise",
    });
  });

  it("accepts Kumiho's legacy cursor field; it wins over from_beginning/from_timestamp/from_latest, and conflicts only with another from_cursor", async () => {
    const raw = await rawKumihoClient(t.app.address);
    const c1 = await t.client.publish(event(20));
    const c2 = await t.client.publish(event(21));
    const ok = await drainCall(raw.EventStream({ cursor: c1 }), 1);
    expect((ok.messages[0] as { cursor: string }).cursor).toBe(c2);
    // Kumiho's Python SDK sends a saved cursor with from_beginning: resume, not replay everything.
    for (const position of [{ fromBeginning: true }, { fromTimestamp: "2000-01-01T00:00:00Z" }, { fromLatest: true }, { fromCursor: c1 }]) {
      const resumed = await drainCall(raw.EventStream({ cursor: c1, ...position }), 1);
      expect((resumed.messages[0] as { cursor: string }).cursor).toBe(c2);
    }
    const bad = await drainCall(raw.EventStream({ cursor: c1, fromCursor: c2 }));
    raw.close();
    expect(bad.error?.code).toBe(Code.INVALID_ARGUMENT);
    expect(bad.error?.details).toMatch(/cursor and from_cursor name different cursors/);
  });

  it("the server keeps serving after every bad request", async () => {
    const sub = t.client.eventStream();
    await sub.ready;
    const c = await t.client.publish(event(9));
    expect((await take(sub, 1))[0]?.cursor).toBe(c);
    expect(t.app.hub.subscriberCount).toBeLessThanOrEqual(1);
  });
});
