import { spawn } from "node:child_process";
import { once } from "node:events";
import { Metadata } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, type StreamgateClientError } from "../client-sdk/src/index.js";
import { counters } from "../server/observability/counters.js";
import { withCommands } from "../server/redis/commands.js";
import { tenantKeys } from "../server/redis/layout.js";
import { defaultTiers, type Tier } from "../server/tenancy/tiers.js";
import { drainCall, event, rawKumihoClient, startTestServer, type TestServer, take, waitFor } from "./helpers.js";

describe("subscriptions release everything when the client goes away", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it("break out of for-await cancels the call on the server", async () => {
    const sub = t.client.eventStream();
    await sub.ready;
    expect(t.app.hub.subscriberCount).toBe(1);
    await t.client.publish(event(1));
    await take(sub, 1);
    await waitFor(() => t.app.hub.subscriberCount === 0, "subscriber count to return to 0");
  });

  it("an abort ends the loop with the signal's reason and releases the server side", async () => {
    const ac = new AbortController();
    const sub = t.client.eventStream({ signal: ac.signal });
    await sub.ready;
    const loop = (async () => {
      for await (const _ of sub) {
        // waits for events that never come
      }
    })();
    ac.abort(new DOMException("user left", "AbortError"));
    await expect(loop).rejects.toMatchObject({ name: "AbortError", message: "user left" });
    await waitFor(() => t.app.hub.subscriberCount === 0, "subscriber count to return to 0");
  });

  it("close() ends the subscription; closed resolves without an error", async () => {
    const sub = t.client.eventStream();
    await sub.ready;
    sub.close();
    expect(await sub.closed).toBeUndefined();
    await waitFor(() => t.app.hub.subscriberCount === 0, "subscriber count to return to 0");
  });

  it("a deadline ends the stream with DEADLINE_EXCEEDED and releases the server side", async () => {
    const raw = await rawKumihoClient(t.app.address);
    const { error } = await drainCall(raw.EventStream({}, new Metadata(), { deadline: Date.now() + 300 }));
    raw.close();
    expect(error?.code).toBe(Code.DEADLINE_EXCEEDED);
    await waitFor(() => t.app.hub.subscriberCount === 0, "subscriber count to return to 0");
  });

  it("a killed client process is detected and released", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "tests/fixtures/subscriber.ts", t.app.address], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const [chunk] = (await once(child.stdout, "data")) as [Buffer];
    expect(chunk.toString()).toContain("ready");
    expect(t.app.hub.subscriberCount).toBe(1);
    child.kill("SIGKILL");
    await once(child, "exit");
    await waitFor(() => t.app.hub.subscriberCount === 0, "subscriber count to return to 0", 15_000);
  });

  it("iterating one subscription twice throws", async () => {
    const sub = t.client.eventStream();
    const first = sub[Symbol.asyncIterator]();
    void first.next();
    expect(() => sub[Symbol.asyncIterator]()).toThrow(/already being iterated/);
    sub.close();
    await waitFor(() => t.app.hub.subscriberCount === 0, "subscriber count to return to 0");
  });
});

describe("slow consumers", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ subscriberQueue: 16, readBatch: 100 });
  });
  afterAll(async () => {
    await t.close();
  });

  it("a subscriber that stops reading continues from Redis afterwards and loses nothing", async () => {
    const raw = await rawKumihoClient(t.app.address);
    const call = raw.EventStream({});
    await once(call, "metadata");
    call.pause(); // stop reading: HTTP/2 flow control pushes back on the server
    const before = counters.slowConsumerCatchUps;
    const big = { pad: "x".repeat(2000) };
    const cursors: string[] = [];
    for (let i = 0; i < 3000; i += 100) {
      cursors.push(
        ...(await t.client.publishBatch(
          Array.from({ length: 100 }, (_, j) => ({ ...event(i + j), details: { ...big, i: String(i + j) } })),
        )),
      );
    }
    await waitFor(() => counters.slowConsumerCatchUps > before, "the subscriber to fall behind its queue");
    const got: string[] = [];
    call.on("data", (e: { cursor: string }) => {
      got.push(e.cursor);
      if (got.length === cursors.length) call.cancel();
    });
    call.on("error", () => {});
    call.resume();
    await waitFor(() => got.length >= cursors.length, "all events after resuming", 30_000);
    raw.close();
    expect(got).toEqual(cursors);
  });
});

describe("slow consumers behind retention", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ subscriberQueue: 16, readBatch: 100 });
  });
  afterAll(async () => {
    await t.close();
  });

  it("a subscriber that falls behind events trimmed by retention gets RESOURCE_EXHAUSTED with its last delivered cursor", async () => {
    // One message per event (Kumiho's protocol), so a stalled reader pushes back quickly.
    const client = createClient({ address: t.app.address, protocol: "kumiho" });
    const sub = client.eventStream({ resume: false }); // the server's behaviour, not the SDK's retry
    await sub.ready;
    const big = { pad: "x".repeat(2000) };
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const loop = (async () => {
      for await (const e of sub) {
        seen.push(e.cursor);
        if (seen.length === 1) await gate; // stop reading after the first event
      }
    })().then(
      () => undefined,
      (e: unknown) => e as StreamgateClientError,
    );
    const before = counters.slowConsumerCatchUps;
    for (let i = 0; i < 3000; i += 100) {
      await t.client.publishBatch(Array.from({ length: 100 }, (_, j) => ({ ...event(i + j), details: { ...big } })));
    }
    await waitFor(() => counters.slowConsumerCatchUps > before, "the subscriber to fall behind its queue");
    const keys = tenantKeys(t.config.keyPrefix, "default");
    await withCommands(t.redis).sgTrim(keys.events, keys.trimmed, 10, "0-0", 0);
    release();
    const err = await loop;
    expect(err?.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(err?.message).toMatch(/fell behind the retention window/);
    expect(err?.trailers["streamgate-last-cursor"]).toBe(seen[seen.length - 1]);
    client.close();
  });
});

describe("graceful shutdown", () => {
  it("ends open streams with UNAVAILABLE carrying each one's last cursor", async () => {
    const t = await startTestServer();
    const client = createClient({ address: t.app.address });
    const sub = client.eventStream({ resume: false }); // the server's behaviour, not the SDK's retry
    await sub.ready;
    const c1 = await t.client.publish(event(1));
    const c2 = await t.client.publish(event(2));
    const seen: string[] = [];
    const loop = (async () => {
      for await (const e of sub) seen.push(e.cursor);
    })().then(
      () => undefined,
      (e: unknown) => e as StreamgateClientError,
    );
    await waitFor(() => seen.length === 2, "two events");
    await t.app.close(2000);
    const err = (await loop) as StreamgateClientError;
    expect(err.code).toBe(Code.UNAVAILABLE);
    expect(err.message).toContain(`resume from cursor ${c2}`);
    expect(err.trailers["streamgate-last-cursor"]).toBe(c2);
    expect(seen).toEqual([c1, c2]);
    client.close();
    await t.close();
  });
});

describe("resuming without a cursor", () => {
  it("a free-tier subscription (events carry no cursor) is not silently resumed live after a break", async () => {
    const free = defaultTiers.free as Tier;
    const t = await startTestServer({}, () => ({ tenantId: "free-tenant", tier: free }));
    const client = createClient({ address: t.app.address });
    const sub = client.eventStream();
    await sub.ready;
    await t.client.publish(event(1));
    const seen: string[] = [];
    const loop = (async () => {
      for await (const e of sub) seen.push(e.cursor);
    })().then(
      () => undefined,
      (e: unknown) => e as StreamgateClientError,
    );
    await waitFor(() => seen.length === 1, "the first event");
    expect(seen).toEqual([""]);
    await t.app.close(1000);
    const err = await loop;
    expect(err?.code).toBe(Code.UNAVAILABLE);
    expect(err?.message).toMatch(/not resumed: the server gave no cursor/);
    // Nor does the status that ends it: a tier without cursor support is never handed one.
    expect(err?.message).toContain("server is shutting down; reconnect");
    expect(err?.message).not.toMatch(/\d+-\d+/);
    expect(err?.trailers["streamgate-last-cursor"] ?? "").toBe("");
    client.close();
    await t.close();
  });
});
