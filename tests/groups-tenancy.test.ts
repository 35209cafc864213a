// Consumer groups with real API keys: Consume authenticates when the call
// opens (not when a join arrives) and ends a call that never joins; group admin
// calls and acks of one tenant never reach another tenant's group of the same name.
import { type ClientDuplexStream, credentials, loadPackageDefinition, type ServiceError, status } from "@grpc/grpc-js";
import { fromJSON } from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { descriptor } from "../client-sdk/src/generated/descriptor.js";
import type { ProtoGrpcType as GroupsProto } from "../client-sdk/src/generated/groups.js";
import type { ConsumeRequest } from "../client-sdk/src/generated/streamgate/v1/ConsumeRequest.js";
import type { ConsumeResponse__Output } from "../client-sdk/src/generated/streamgate/v1/ConsumeResponse.js";
import type { ConsumerGroupsClient } from "../client-sdk/src/generated/streamgate/v1/ConsumerGroups.js";
import {
  Code,
  type GroupConsumer,
  type GroupDelivery,
  type StreamgateClient,
  type StreamgateClientError,
} from "../client-sdk/src/index.js";
import { groupKeys } from "../server/redis/layout.js";
import { event, sleep, startTestServer, type TestServer, waitFor } from "./helpers.js";
import { clientFor, deadLetterOne, md } from "./tenancyHelpers.js";

const JOIN_TIMEOUT_MS = 400;

/** A bare ConsumerGroups client, to open Consume with any metadata and send nothing. */
function rawGroups(address: string): ConsumerGroupsClient {
  const pkg = loadPackageDefinition(fromJSON(descriptor, { longs: String, defaults: true, oneofs: true })) as unknown as GroupsProto;
  return new pkg.streamgate.v1.ConsumerGroups(address, credentials.createInsecure()) as ConsumerGroupsClient;
}

/** Resolves with how the call ended and after how long (the call is cancelled if it is still open after 5 s). */
function ending(call: ClientDuplexStream<ConsumeRequest, ConsumeResponse__Output>) {
  const started = Date.now();
  return new Promise<{ code: number; details: string; afterMs: number }>((resolve) => {
    const giveUp = setTimeout(() => call.cancel(), 5000);
    call.on("status", () => clearTimeout(giveUp));
    call.on("data", () => {});
    call.on("error", (err: ServiceError) => resolve({ code: err.code, details: err.details, afterMs: Date.now() - started }));
    call.on("end", () => resolve({ code: status.OK, details: "", afterMs: Date.now() - started }));
  });
}

describe("Consume authentication", () => {
  let t: TestServer;
  let raw: ConsumerGroupsClient;
  let token: string;
  beforeAll(async () => {
    t = await startTestServer({ auth: "keys", groupJoinTimeoutMs: JOIN_TIMEOUT_MS });
    raw = rawGroups(t.app.address);
    ({ token } = await clientFor(t, "acme", "enterprise"));
  });
  afterAll(async () => {
    raw.close();
    await t.close();
  });

  it("refuses a call without credentials at once with UNAUTHENTICATED, before any message is sent", async () => {
    const call = raw.consume(md());
    const end = await ending(call);
    expect(end.code).toBe(status.UNAUTHENTICATED);
    expect(end.details).toMatch(/missing credentials/);
    expect(end.afterMs).toBeLessThan(JOIN_TIMEOUT_MS);
  });

  it("refuses an unknown key at once with UNAUTHENTICATED", async () => {
    const call = raw.consume(md("sg_not-a-real-key-000000000000000000000000000"));
    const end = await ending(call);
    expect(end.code).toBe(status.UNAUTHENTICATED);
    expect(end.afterMs).toBeLessThan(JOIN_TIMEOUT_MS);
  });

  it("ends an authenticated call that never sends join with INVALID_ARGUMENT after the join timeout", async () => {
    const call = raw.consume(md(token));
    const end = await ending(call);
    expect(end.code).toBe(status.INVALID_ARGUMENT);
    expect(end.details).toMatch(/no join message within 400 ms/);
    expect(end.afterMs).toBeGreaterThanOrEqual(JOIN_TIMEOUT_MS - 50);
    expect(t.app.members.size).toBe(0);
  });

  it("a member that joins in time keeps running past the join timeout", async () => {
    const { client } = await clientFor(t, "acme", "enterprise");
    const c = client.consume({ group: "on-time", routingKeyFilter: "job.*" });
    await c.joined;
    await sleep(JOIN_TIMEOUT_MS * 2);
    const got: string[] = [];
    const loop = (async () => {
      for await (const d of c) {
        got.push(d.event.cursor);
        d.ack();
      }
    })();
    const [cursor] = await client.publishBatch([event(1, "job.ok")]);
    await waitFor(() => got.length === 1, "the delivery");
    expect(got).toEqual([cursor]);
    c.close();
    await loop;
    client.close();
  });
});

describe("consumer groups of two tenants with the same group name", () => {
  let t: TestServer;
  let alpha: StreamgateClient;
  let beta: StreamgateClient;
  let holder: GroupConsumer;
  let holdLoop: Promise<void>;
  const alphaHeld: GroupDelivery[] = [];
  let alphaDead = "";
  beforeAll(async () => {
    t = await startTestServer({ auth: "keys", groupClaimIntervalMs: 50 });
    alpha = (await clientFor(t, "alpha", "enterprise")).client;
    beta = (await clientFor(t, "beta", "enterprise")).client;
    // alpha's group "work": one dead letter and three deliveries held unacknowledged.
    alphaDead = await deadLetterOne(alpha, "work", "alpha's secret error", "f");

    holder = alpha.consume({ group: "work", member: "holder", routingKeyFilter: "job.*", ackTimeoutMs: 60_000 });
    await holder.joined;
    holdLoop = (async () => {
      for await (const d of holder) alphaHeld.push(d);
    })();
    await alpha.publishBatch([event(1, "job.a"), event(2, "job.a"), event(3, "job.a")]);
    await waitFor(() => alphaHeld.length === 3, "alpha's three held deliveries");
  });
  afterAll(async () => {
    holder.close();
    await holdLoop;
    alpha.close();
    beta.close();
    await t.close();
  });

  const alphaState = async () => {
    const info = await alpha.groups.describe("work");
    return { pending: info.pending, deadLetters: info.deadLetters, members: info.members.map((m) => [m.name, m.pending]) };
  };

  it("another tenant's describe, dead-letter list, replay and purge find no such group and change nothing", async () => {
    const before = await alphaState();
    expect(before).toEqual({ pending: 3, deadLetters: 1, members: [["holder", 3]] });
    for (const call of [
      () => beta.groups.describe("work"),
      () => beta.groups.deadLetters("work"),
      () => beta.groups.replayDeadLetters("work"),
      () => beta.groups.replayDeadLetters("work", [alphaDead]),
      () => beta.groups.purgeDeadLetters("work", [alphaDead]),
      () => beta.groups.purgeDeadLetters("work"),
    ]) {
      const err = (await call().catch((e: unknown) => e)) as StreamgateClientError;
      expect(err.code, String(call)).toBe(Code.NOT_FOUND);
      expect(err.message).toBe('no consumer group named "work"');
    }
    expect(await beta.groups.list()).toEqual([]);
    expect(await alphaState()).toEqual(before);
    expect((await alpha.groups.deadLetters("work")).map((d) => d.id)).toEqual([alphaDead]);
  });

  it("once the other tenant has its own group of that name, its admin calls only touch its own", async () => {
    const own = beta.consume({ group: "work", member: "b", routingKeyFilter: "job.*" });
    await own.joined;
    own.close();
    expect(await beta.groups.describe("work")).toMatchObject({ group: "work", pending: 0, deadLetters: 0, members: [] });
    expect(await beta.groups.deadLetters("work")).toEqual([]);
    expect(await beta.groups.replayDeadLetters("work")).toBe(0);
    expect(await beta.groups.replayDeadLetters("work", [alphaDead])).toBe(0);
    expect(await beta.groups.purgeDeadLetters("work", [alphaDead])).toBe(0);
    expect(await beta.groups.purgeDeadLetters("work")).toBe(0);
    expect(await alphaState()).toEqual({ pending: 3, deadLetters: 1, members: [["holder", 3]] });
    expect((await alpha.groups.deadLetters("work")).map((d) => d.id)).toEqual([alphaDead]);
  });

  it("acks and nacks of another tenant's delivery ids, under the same group and member names, leave them pending", async () => {
    const ids = alphaHeld.map((d) => d.deliveryId);
    expect(ids).toHaveLength(3);
    // beta joins its own "work" group under alpha's member name and aims at alpha's deliveries.
    const impostor = beta.consume({ group: "work", member: "holder", routingKeyFilter: "job.*" });
    await impostor.joined;
    impostor.nack(ids, "beta was here");
    impostor.ack(ids);
    impostor.ack(ids.map((id) => `r/${id}`));
    await sleep(300);
    impostor.close();
    for await (const _ of impostor) {
      // beta's stream has no events for it
    }
    expect(await alphaState()).toEqual({ pending: 3, deadLetters: 1, members: [["holder", 3]] });
    const keys = groupKeys(t.config.keyPrefix, "alpha", "work");
    expect(await t.redis.hgetall(keys.errors)).toEqual({});
    expect((await beta.groups.describe("work")).pending).toBe(0);
    // alpha's own member can still acknowledge them.
    for (const d of alphaHeld) d.ack();
    await waitFor(async () => (await alpha.groups.describe("work")).pending === 0, "alpha's acks");
  });
});
