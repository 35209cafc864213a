// STREAMGATE_WAIT_REPLICAS: a publish is acknowledged only once that many Redis
// replicas have it. With the replica stuck, the publish fails with UNAVAILABLE
// (the event is on the primary); the retry with the same idempotency key is
// answered with the first cursor once the replica has caught up.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, type StreamgateClient, type StreamgateClientError } from "../../client-sdk/src/index.js";
import { type LocalRedis, startLocalRedis } from "../../server/redis/localRedis.js";
import { waitFor } from "../helpers.js";
import { numbered, type RelServer, startServerOn } from "./harness.js";

let dir: string;
let primary: LocalRedis;
let replica: LocalRedis;
let replicaAdmin: Redis;
let server: RelServer;
let client: StreamgateClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sg-wait-"));
  primary = await startLocalRedis({ dataDir: join(dir, "primary"), appendOnly: false });
  replica = await startLocalRedis({ dataDir: join(dir, "replica"), appendOnly: false });
  replicaAdmin = new Redis(replica.url);
  await replicaAdmin.call("REPLICAOF", "127.0.0.1", String(primary.port));
  await waitFor(async () => (await replicaAdmin.info("replication")).includes("master_link_status:up"), "the replica to sync");
  server = await startServerOn(primary.url, { waitReplicas: 1, waitTimeoutMs: 300 });
  client = createClient({ address: server.app.address, publishRetry: false });
});

afterAll(async () => {
  client.close();
  await server.app.close(2000);
  replica.process.kill("SIGCONT");
  replicaAdmin.disconnect();
  await replica.stop();
  await primary.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("acknowledging after N replicas (STREAMGATE_WAIT_REPLICAS)", () => {
  it("acknowledges once the replica has the event; with the replica stuck, fails with UNAVAILABLE and a safe retry", async () => {
    const cursor = await client.publish({ ...numbered(1), idempotencyKey: "wait-1" });
    // Acknowledged means the replica has it.
    const [id] = cursor.split(".");
    expect(await replicaAdmin.xrange(server.stream, id as string, id as string)).toHaveLength(1);

    replica.process.kill("SIGSTOP");
    const err = (await client.publish({ ...numbered(2), idempotencyKey: "wait-2" }).catch((e: unknown) => e)) as StreamgateClientError;
    expect(err.code).toBe(Code.UNAVAILABLE);
    expect(err.message).toMatch(/stored, but only 0 of 1 replicas confirmed.*retry with the same idempotency keys/);
    replica.process.kill("SIGCONT");

    // The retry is not stored twice: it gets the first append's cursor, now that the replica has it.
    const primaryAdmin = new Redis(primary.url);
    try {
      await waitFor(async () => (await primaryAdmin.xlen(server.stream)) === 2, "the refused publish to be on the primary");
      const retried = await client.publish({ ...numbered(2), idempotencyKey: "wait-2" });
      const [retriedId] = retried.split(".");
      expect((await primaryAdmin.xrange(server.stream, "-", "+")).map(([i]) => i)).toEqual([id, retriedId]);
      expect(await replicaAdmin.xrange(server.stream, retriedId as string, retriedId as string)).toHaveLength(1);
    } finally {
      primaryAdmin.disconnect();
    }
  });
});
