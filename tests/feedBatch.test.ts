import type { ClientReadableStream } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { event, sleep, startTestServer, type TestServer } from "./helpers.js";
import { rawClients } from "./tenancyHelpers.js";

interface Frame {
  at: number;
  events: { details: Record<string, string> }[];
}

/** A raw Subscribe call that records each EventBatch frame and when it arrived. */
function frames(address: string) {
  const raw = rawClients(address);
  const call = (raw.sg as unknown as { Subscribe(req: unknown): ClientReadableStream<{ events: Frame["events"] }> }).Subscribe({
    routingKeyFilter: "",
    krefFilter: "",
  });
  const got: Frame[] = [];
  call.on("data", (m) => got.push({ at: Date.now(), events: m.events }));
  call.on("error", () => {});
  const registered = new Promise<void>((res) => call.once("metadata", () => res()));
  const close = () => {
    call.cancel();
    raw.close();
  };
  return { got, registered, close };
}

describe("the shared reader's batching window (STREAMGATE_FEED_BATCH_MS)", () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("delivers a busy stream in fewer, larger frames, every event once and in order", async () => {
    t = await startTestServer({ feedBatchMs: 150 });
    const sub = frames(t.app.address);
    await sub.registered;
    const started = Date.now();
    for (let i = 0; i < 12; i++) {
      await t.client.publish(event(i));
      await sleep(25);
    }
    const elapsed = Date.now() - started;
    while (sub.got.reduce((n, f) => n + f.events.length, 0) < 12) await sleep(20);
    sub.close();
    // A read at most every 150 ms: one frame per window the publishing spanned (plus the first), not one per event.
    expect(sub.got.length).toBeLessThanOrEqual(Math.ceil(elapsed / 150) + 1);
    expect(sub.got.length).toBeLessThan(12);
    expect(sub.got.flatMap((f) => f.events.map((e) => e.details.i))).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
  });

  it("adds no wait for an event on a quiet stream", async () => {
    t = await startTestServer({ feedBatchMs: 1000 });
    const sub = frames(t.app.address);
    await sub.registered;
    await sleep(1200); // quiet for longer than the window
    const sent = Date.now();
    await t.client.publish(event(1));
    while (sub.got.length === 0) await sleep(5);
    sub.close();
    expect((sub.got[0] as Frame).at - sent).toBeLessThan(500);
  });

  it("with 0, sends each publish as it is read", async () => {
    t = await startTestServer({ feedBatchMs: 0 });
    const sub = frames(t.app.address);
    await sub.registered;
    for (let i = 0; i < 6; i++) {
      await t.client.publish(event(i));
      await sleep(40);
    }
    while (sub.got.reduce((n, f) => n + f.events.length, 0) < 6) await sleep(20);
    sub.close();
    expect(sub.got.length).toBe(6);
  });
});
