// client.close() ends every call the client opened: subscriptions and group
// consumers alike (a consumer's loop once ran on, and the server still counted
// it, after close()).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../client-sdk/src/index.js";
import { startTestServer, type TestServer, waitFor } from "../helpers.js";

describe("client.close()", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it("ends its subscriptions and its group consumers: their loops end without error, and the server lets them go", async () => {
    const client = createClient({ address: t.app.address });
    const sub = client.eventStream();
    const consumer = client.consume({ group: "closing", member: "m1" });
    await Promise.all([sub.ready, consumer.joined]);
    expect(t.app.members.size).toBe(1);
    const loops = [
      (async () => {
        for await (const _ of sub);
      })(),
      (async () => {
        for await (const _ of consumer);
      })(),
    ];
    client.close();
    expect(await Promise.all(loops)).toEqual([undefined, undefined]);
    await waitFor(() => t.app.members.size === 0 && t.app.hub.subscriberCount === 0, "the server to release both");
  });
});
