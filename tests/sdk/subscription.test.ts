// The subscription as a handle: cancellation leaves nothing behind on the
// server, errors that retrying cannot fix are thrown at once, and the loop's
// flow control keeps order under a slow consumer.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Code, createClient, EventSubscription, StreamgateClientError } from "../../client-sdk/src/index.js";
import { StreamgateError } from "../../server/errors.js";
import { withCommands } from "../../server/redis/commands.js";
import { tenantKeys } from "../../server/redis/layout.js";
import { defaultTiers } from "../../server/tenancy/tiers.js";
import { event, startRestartableServer, startTestServer, type TestServer, waitFor } from "../helpers.js";

describe("subscription handle", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it("eventStream returns the subscription itself, synchronously", () => {
    const sub = t.client.eventStream();
    expect(sub).toBeInstanceOf(EventSubscription);
    expect("then" in sub).toBe(false);
    sub.close();
  });

  it("an abort mid-stream ends the loop with the signal's reason and the server drops the subscriber", async () => {
    const controller = new AbortController();
    const sub = t.client.eventStream({ signal: controller.signal });
    await sub.ready;
    expect(t.app.hub.subscriberCount).toBe(1);
    await t.client.publish(event(1));
    let caught: unknown;
    try {
      for await (const _ of sub) controller.abort();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DOMException);
    expect((caught as DOMException).name).toBe("AbortError");
    expect(await sub.closed).toBeUndefined();
    await waitFor(() => t.app.hub.subscriberCount === 0, "the server to drop the subscriber");
  });

  it("an abort while waiting for events throws the signal's own reason", async () => {
    const controller = new AbortController();
    const sub = t.client.eventStream({ signal: controller.signal });
    await sub.ready;
    const reason = new Error("shutting down the worker");
    setTimeout(() => controller.abort(reason), 10);
    await expect(
      (async () => {
        for await (const _ of sub);
      })(),
    ).rejects.toBe(reason);
    await waitFor(() => t.app.hub.subscriberCount === 0, "the server to drop the subscriber");
  });

  it("break cancels the call on the server; lastCursor is the last event the loop received", async () => {
    const sub = t.client.eventStream();
    await sub.ready;
    const cursors = await t.client.publishBatch([event(1), event(2), event(3)]);
    for await (const e of sub) if (e.cursor === cursors[1]) break;
    expect(sub.lastCursor).toBe(cursors[1]);
    expect(await sub.closed).toBeUndefined();
    await waitFor(() => t.app.hub.subscriberCount === 0, "the server to drop the subscriber");
    // Resuming from lastCursor continues with exactly what the loop had not seen.
    const again = t.client.eventStream({ cursor: sub.lastCursor });
    for await (const e of again) {
      expect(e.cursor).toBe(cursors[2]);
      break;
    }
  });

  it("close() and asyncDispose end the loop without error; client.close() ends open subscriptions", async () => {
    const a = t.client.eventStream();
    await a.ready;
    const loop = (async () => {
      for await (const _ of a);
    })();
    a.close();
    await expect(loop).resolves.toBeUndefined();

    const b = t.client.eventStream();
    await b.ready;
    await b[Symbol.asyncDispose]();
    expect(await b.closed).toBeUndefined();

    const other = createClient({ address: t.app.address });
    const c = other.eventStream();
    await c.ready;
    const cLoop = (async () => {
      for await (const _ of c);
    })();
    other.close();
    await expect(cLoop).resolves.toBeUndefined();
    await waitFor(() => t.app.hub.subscriberCount === 0, "the server to drop the subscribers");
  });

  it("iterating the same subscription twice throws", async () => {
    const sub = t.client.eventStream();
    const first = sub[Symbol.asyncIterator]();
    expect(() => sub[Symbol.asyncIterator]()).toThrow(/already being iterated/);
    await first.return?.();
    expect(await sub.closed).toBeUndefined();
  });

  it("a slow consumer of a long replay gets every event in order (flow control pauses and resumes the call)", async () => {
    const published: string[] = [];
    for (let b = 0; b < 3; b++) {
      published.push(...(await t.client.publishBatch(Array.from({ length: 1000 }, (_, i) => event(b * 1000 + i, "replay.slow")))));
    }
    const sub = t.client.eventStream({ fromBeginning: true, routingKeyFilter: "replay.slow" });
    const got: string[] = [];
    for await (const e of sub) {
      got.push(e.cursor);
      if (got.length % 100 === 0) await new Promise((r) => setImmediate(r));
      if (got.length === published.length) break;
    }
    expect(got).toEqual(published);
  });
});

describe("errors that retrying cannot fix", () => {
  it("INVALID_ARGUMENT, OUT_OF_RANGE and DATA_LOSS are thrown at once, with no reconnect attempt", async () => {
    const t = await startTestServer();
    try {
      // Retention removed the first of two events: "1-0" has a gap after it.
      await t.client.publishBatch([event(1), event(2)]);
      const keys = tenantKeys(t.config.keyPrefix, t.config.tenant);
      await withCommands(t.redis).sgTrim(keys.events, keys.trimmed, 1, "0-0", 0);
      for (const [options, code] of [
        [{ routingKeyFilter: "a..b" }, Code.INVALID_ARGUMENT],
        [{ krefFilter: "kref://+(a|aa)" }, Code.INVALID_ARGUMENT],
        [{ cursor: "not-a-cursor" }, Code.INVALID_ARGUMENT],
        [{ cursor: "1-0" }, Code.OUT_OF_RANGE],
        [{ cursor: "99999999999999-0" }, Code.DATA_LOSS],
      ] as const) {
        const sub = t.client.eventStream(options);
        const reconnect = vi.fn();
        sub.on("reconnect", reconnect);
        await expect(sub.ready).rejects.toMatchObject({ code });
        const err = await (async () => {
          for await (const _ of sub);
        })().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StreamgateClientError);
        expect((err as StreamgateClientError).code).toBe(code);
        expect(await sub.closed).toBe(err);
        expect(reconnect).not.toHaveBeenCalled();
      }
    } finally {
      await t.close();
    }
  });

  it("UNAUTHENTICATED and PERMISSION_DENIED are thrown at once", async () => {
    const free = { tenantId: "t1", tier: defaultTiers.free! };
    const t = await startTestServer({}, (md) => {
      if (md.get("authorization")[0] !== "Bearer good") throw new StreamgateError(status.UNAUTHENTICATED, "bad token");
      return free;
    });
    const good = createClient({ address: t.app.address, token: "good" });
    try {
      const denied = good.eventStream({ cursor: "1-0" }); // the free tier has no cursor support
      await expect(denied.ready).rejects.toMatchObject({ code: Code.PERMISSION_DENIED });
      const unauthenticated = t.client.eventStream();
      const reconnect = vi.fn();
      unauthenticated.on("reconnect", reconnect);
      const err = await (async () => {
        for await (const _ of unauthenticated);
      })().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: Code.UNAUTHENTICATED, message: "bad token" });
      expect(reconnect).not.toHaveBeenCalled();
    } finally {
      good.close();
      await t.close();
    }
  });

  it("an abort during a reconnect wait ends the loop at once and clears the timer", async () => {
    const server = await startRestartableServer();
    const client = createClient({ address: server.address });
    const setSpy = vi.spyOn(globalThis, "setTimeout");
    const clearSpy = vi.spyOn(globalThis, "clearTimeout");
    try {
      const controller = new AbortController();
      const hour = 3_600_000;
      const sub = client.eventStream({ signal: controller.signal, resume: { initialDelayMs: hour, maxDelayMs: hour } });
      await sub.ready;
      const waiting = new Promise<number>((resolve) => sub.on("reconnect", (info) => resolve(info.delayMs)));
      const loop = (async () => {
        for await (const _ of sub);
      })().catch((e: unknown) => e);
      await server.stop();
      const delayMs = await waiting;
      const timer = setSpy.mock.results.find((_r, i) => setSpy.mock.calls[i]?.[1] === delayMs)?.value;
      expect(timer).toBeDefined();
      controller.abort();
      expect(((await loop) as Error).name).toBe("AbortError");
      expect(clearSpy).toHaveBeenCalledWith(timer);
    } finally {
      setSpy.mockRestore();
      clearSpy.mockRestore();
      client.close();
    }
  });
});
