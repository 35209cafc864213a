// A consumer-group member sending huge acks: once, 5,000 ack/nack pairs followed
// by one ack of 160,000 ids overflowed the stack inside grpc-js's data listener
// and killed the process. Every list a client sends is bounded, and processed
// without spreading it into arguments.
import type { ClientDuplexStream, ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConsumeRequest } from "../../client-sdk/src/generated/streamgate/v1/ConsumeRequest.js";
import type { ConsumeResponse__Output } from "../../client-sdk/src/generated/streamgate/v1/ConsumeResponse.js";
import type { ConsumerGroupsClient } from "../../client-sdk/src/generated/streamgate/v1/ConsumerGroups.js";
import { Code } from "../../client-sdk/src/index.js";
import { event, startTestServer, type TestServer, take, waitFor } from "../helpers.js";
import { md, rawClients } from "../tenancyHelpers.js";

type Call = ClientDuplexStream<ConsumeRequest, ConsumeResponse__Output>;

/** A joined Consume call and how it ends. */
async function joined(raw: ReturnType<typeof rawClients>, group: string) {
  const call = (raw.groups as unknown as ConsumerGroupsClient).consume(md()) as unknown as Call;
  const ended = new Promise<{ code: number; details: string }>((resolve) => {
    call.on("error", (err: ServiceError) => resolve({ code: err.code, details: err.details }));
    call.on("end", () => resolve({ code: Code.OK, details: "" }));
  });
  const isJoined = new Promise<void>((resolve) => call.on("data", (m: ConsumeResponse__Output) => m.joined && resolve()));
  call.write({ join: { group, member: "m1" } });
  await isJoined;
  return { call, ended };
}

/** "<ms>-<n>" ids that look like delivery ids. */
const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `1700000000000-${from + i}`);

describe("huge acks and nacks on Consume", () => {
  let t: TestServer;
  let raw: ReturnType<typeof rawClients>;
  beforeAll(async () => {
    t = await startTestServer();
    raw = rawClients(t.app.address);
  });
  afterAll(async () => {
    raw.close();
    await t.close();
  });

  it("5,000 ack/nack pairs, then one ack of 90,000 ids: applied, the call and the server carry on", async () => {
    const { call, ended } = await joined(raw, "bulk-acks");
    for (let i = 0; i < 5000; i++) {
      call.write({ ack: { deliveryIds: ids(1, 2 * i) } });
      call.write({ nack: { deliveryIds: ids(1, 2 * i + 1), error: "x" } });
    }
    call.write({ ack: { deliveryIds: ids(90_000, 100_000) } });
    call.end();
    expect(await ended).toEqual({ code: Code.OK, details: "" });
    // The server is fine: a normal publish and subscribe work.
    const sub = t.client.eventStream({ resume: false });
    await sub.ready;
    const cursor = await t.client.publish(event(1));
    expect((await take(sub, 1))[0]?.cursor).toBe(cursor);
  });

  it("an ack with no ids, then a half-close: the call ends (it once hung the whole process)", async () => {
    const { call, ended } = await joined(raw, "empty-ack");
    call.write({ ack: { deliveryIds: [] } });
    call.write({ nack: { deliveryIds: [], error: "" } });
    call.end();
    expect(await ended).toEqual({ code: Code.OK, details: "" });
    expect(await t.client.health()).toBe("SERVING");
  });

  it("one ack of 160,000 ids is refused with INVALID_ARGUMENT naming the limit; the server carries on", async () => {
    const { call, ended } = await joined(raw, "too-many");
    call.write({ ack: { deliveryIds: ids(160_000) } });
    const end = await ended;
    expect(end.code).toBe(Code.INVALID_ARGUMENT);
    expect(end.details).toMatch(/one ack carries 160000 delivery ids; the limit is 100000: send them in several messages/);
    await waitFor(async () => (await t.client.health()) === "SERVING", "the server to keep serving");
    const sub = t.client.eventStream({ resume: false });
    await sub.ready;
    const cursor = await t.client.publish(event(2));
    expect((await take(sub, 1))[0]?.cursor).toBe(cursor);
  });
});
