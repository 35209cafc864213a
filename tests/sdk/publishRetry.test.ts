// How publish and publishBatch ride out an unreachable server: with retries
// (the default) they wait for it, bounded by timeoutMs; without retries, or
// without idempotency keys, they fail at once; an abort ends the wait.
import { afterEach, describe, expect, it } from "vitest";
import { Code, createClient, type StreamgateClient, type StreamgateClientError } from "../../client-sdk/src/index.js";
import { freePort } from "../../server/redis/localRedis.js";
import { event, type RestartableServer, startRestartableServer, take } from "../helpers.js";

describe("publishing while the server cannot be reached", () => {
  const clients: StreamgateClient[] = [];
  let server: RestartableServer | undefined;
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server?.stop();
  });
  const client = (opts: Omit<Parameters<typeof createClient>[0], "address"> & { address: string }) => {
    const c = createClient(opts);
    clients.push(c);
    return c;
  };

  it("waits for a server that comes back, and the event is stored once", async () => {
    server = await startRestartableServer();
    const c = client({ address: server.address });
    await c.publish(event(0));
    await server.stop();
    // Sent while nothing listens: the publish waits for the connection instead of failing.
    const pending = c.publish(event(1));
    await server.start();
    const cursor = await pending;
    const got = await take(c.eventStream({ fromBeginning: true, resume: false }), 2);
    expect(got[1]?.cursor).toBe(cursor);
  });

  it("gives up at timeoutMs with UNAVAILABLE naming the address", async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const err = (await client({ address })
      .publish(event(1), { timeoutMs: 300 })
      .catch((e: unknown) => e)) as StreamgateClientError;
    expect(err.code).toBe(Code.UNAVAILABLE);
    expect(err.message).toContain(address);
  });

  it.each([
    ["publishRetry: false", { publishRetry: false as const }],
    ["autoIdempotencyKeys: false (a retry could store it twice)", { autoIdempotencyKeys: false }],
  ])("with %s, fails at once (no wait, no timeout needed)", async (_name, opts) => {
    const address = `127.0.0.1:${await freePort()}`;
    // No timeoutMs: settling at all is the point.
    const err = (await client({ address, ...opts })
      .publishBatch([event(1)])
      .catch((e: unknown) => e)) as StreamgateClientError;
    expect(err.code).toBe(Code.UNAVAILABLE);
  });

  it("an abort ends the wait with the signal's reason", async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const controller = new AbortController();
    const pending = client({ address }).publish(event(1), { signal: controller.signal });
    controller.abort(new Error("stop waiting"));
    await expect(pending).rejects.toThrow("stop waiting");
  });
});
