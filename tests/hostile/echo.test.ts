// Input a server echoes back in a status message stays small: a 100 KB health
// service name once produced a status too large to send, which wedged the
// HTTP/2 connection and every call on it (a live subscription stopped receiving).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, type StreamgateClientError } from "../../client-sdk/src/index.js";
import { MAX_STATUS_MESSAGE } from "../../server/errors.js";
import { event, startTestServer, type TestServer, take } from "../helpers.js";

describe("what the server echoes is bounded", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it("a health Check of a 100 KB service name gets NOT_FOUND quoting a short part of it; the connection keeps working", async () => {
    // The same client (one HTTP/2 connection) holds a live subscription.
    const sub = t.client.eventStream({ resume: false });
    await sub.ready;
    const err = (await t.client.health("x".repeat(100_000), { timeoutMs: 10_000 }).catch((e: unknown) => e)) as StreamgateClientError;
    expect(err.code).toBe(Code.NOT_FOUND);
    expect(err.message).toMatch(/unknown service "x{80}"\.\.\. \(100000 characters\)/);
    const cursor = await t.client.publish(event(1));
    expect((await take(sub, 1))[0]?.cursor).toBe(cursor);
  });

  it("an oversized details key is quoted in part, and every status message stays within the cap", async () => {
    const key = "k".repeat(20_000);
    const err = (await t.client.publish({ ...event(2), details: { [key]: "v" } }).catch((e: unknown) => e)) as StreamgateClientError;
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.message).toMatch(/^details key "k{40}"\.\.\. \(20000 characters\) is 20000 bytes; the limit is 8192$/);
    for (const bad of [
      { routingKeyFilter: "Z".repeat(1000) },
      { krefFilter: `kref://${"%".repeat(1000)}` },
      { cursor: "9".repeat(5000) },
    ]) {
      const closed = await t.client.eventStream({ ...bad, resume: false }).closed;
      expect(closed?.code).toBe(Code.INVALID_ARGUMENT);
      expect(closed?.message.length).toBeLessThanOrEqual(MAX_STATUS_MESSAGE + 3);
    }
  });
});

describe("details are plain data", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it("a details key __proto__ (or constructor) is kept as an entry, and the size limits apply to it", async () => {
    const details = JSON.parse('{"__proto__":"p","constructor":"c","x":"1"}') as Record<string, string>;
    const sub = t.client.eventStream({ resume: false });
    await sub.ready;
    await t.client.publish({ ...event(3), details });
    const [got] = await take(sub, 1);
    expect(Object.entries(got?.details ?? {})).toEqual([
      ["__proto__", "p"],
      ["constructor", "c"],
      ["x", "1"],
    ]);
    const big = JSON.parse(`{"__proto__":"${"v".repeat(8196)}"}`) as Record<string, string>;
    const err = (await t.client.publish({ ...event(4), details: big }).catch((e: unknown) => e)) as StreamgateClientError;
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.message).toMatch(/^details\["__proto__"\] is 8196 bytes; the limit is 8192$/);
  });
});
