// Helpers of the tenancy tests: raw gRPC clients (to send any metadata), the
// Admin service, a key store on the test Redis, and temporary tiers files.
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, credentials, loadPackageDefinition, Metadata, type ServiceError } from "@grpc/grpc-js";
import { fromJSON } from "@grpc/proto-loader";
import { expect } from "vitest";
import { descriptor } from "../client-sdk/src/generated/descriptor.js";
import { createClient, type StreamgateClient, type StreamgateClientError } from "../client-sdk/src/index.js";
import { KeyStore } from "../server/auth/keyStore.js";
import { withCommands } from "../server/redis/commands.js";
import { loadTiers } from "../server/tenancy/loadTiers.js";
import { event, type TestServer, waitFor } from "./helpers.js";

const pkg = loadPackageDefinition(fromJSON(descriptor, { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true }));
type Ctor = new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client;
const ns = pkg as unknown as {
  kumiho: { KumihoService: Ctor };
  streamgate: { v1: { Streamgate: Ctor; Admin: Ctor; ConsumerGroups: Ctor } };
};

/** Raw clients of the services, for calls with hand-made metadata. */
export function rawClients(address: string) {
  const creds = credentials.createInsecure();
  const sg = new ns.streamgate.v1.Streamgate(address, creds);
  const kumiho = new ns.kumiho.KumihoService(address, creds);
  const admin = new ns.streamgate.v1.Admin(address, creds);
  const groups = new ns.streamgate.v1.ConsumerGroups(address, creds);
  return {
    sg,
    kumiho,
    admin,
    groups,
    close() {
      sg.close();
      kumiho.close();
      admin.close();
      groups.close();
    },
  };
}

/** Metadata with an optional bearer token and any extra headers. */
export function md(token?: string, extra: Record<string, string> = {}): Metadata {
  const m = new Metadata();
  if (token !== undefined) m.set("authorization", `Bearer ${token}`);
  for (const [k, v] of Object.entries(extra)) m.set(k, v);
  return m;
}

/** Calls a unary method of a raw client. */
export function unary<T = Record<string, unknown>>(client: Client, method: string, req: unknown, metadata: Metadata): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (...a: unknown[]) => void>)[method];
    if (!fn) throw new Error(`no method ${method}`);
    fn.call(client, req, metadata, (err: ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
  });
}

/**
 * How a server-streaming call of a raw client starts: `{ code: 0 }` once the
 * server has registered it (the call is then cancelled), else its error status.
 */
export function streamStatus(client: Client, method: string, req: unknown, metadata: Metadata): Promise<{ code: number; details: string }> {
  return new Promise((resolve) => {
    const fn = (client as unknown as Record<string, (...a: unknown[]) => NodeJS.EventEmitter & { cancel(): void }>)[method];
    if (!fn) throw new Error(`no method ${method}`);
    const call = fn.call(client, req, metadata);
    call.on("data", () => {});
    call.on("metadata", () => {
      resolve({ code: 0, details: "open" });
      call.cancel();
    });
    call.on("error", (err: ServiceError) => resolve({ code: err.code, details: err.details }));
  });
}

/** Expects `p` to reject with gRPC `code` and a message matching `message`. */
export async function expectCode(p: Promise<unknown>, code: number, message?: RegExp): Promise<void> {
  const err = (await p.then(
    () => {
      throw new Error(`expected gRPC code ${code}, but the call succeeded`);
    },
    (e: unknown) => e,
  )) as StreamgateClientError & ServiceError;
  expect(err.code, String(err.message)).toBe(code);
  if (message) expect(err.details ?? err.message).toMatch(message);
}

/** A key store on the test server's Redis and prefix (as the CLI would use it). */
export function keyStoreOf(t: TestServer): KeyStore {
  return new KeyStore(withCommands(t.redis), t.config.keyPrefix, loadTiers(t.config.tiersFile));
}

/** Creates a key and returns an SDK client using it. */
export async function clientFor(
  t: TestServer,
  tenant: string,
  tier: string,
): Promise<{ client: StreamgateClient; token: string; id: string }> {
  const created = await keyStoreOf(t).create({ tenant, tier });
  return { client: createClient({ address: t.app.address, token: created.token }), token: created.token, id: created.id };
}

/** Writes a tiers file to a temporary directory and returns its path. */
export function tiersFile(doc: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), "streamgate-tiers-"));
  const path = join(dir, `tiers-${randomUUID()}.json`);
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

/** A tier for tiers files: every field, overridable. */
export function tierSpec(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    supportsCursor: true,
    supportsReplay: true,
    supportsConsumerGroups: false,
    maxRetentionHours: 1,
    maxBufferSize: 10_000,
    maxConcurrentStreams: -1,
    publishRatePerSecond: -1,
    publishBurst: -1,
    ...over,
  };
}

/**
 * Gives `client`'s consumer group `group` (filter `job.*`) one dead letter: a member that nacks
 * with `error` the one event it gets, with max deliveries 1. Returns the dead letter's id.
 */
export async function deadLetterOne(client: StreamgateClient, group: string, error: string, member?: string): Promise<string> {
  const failing = client.consume({ group, member, routingKeyFilter: "job.*", maxDeliveries: 1, ackTimeoutMs: 60_000 });
  await failing.joined;
  const loop = (async () => {
    for await (const d of failing) d.nack(error);
  })();
  await client.publishBatch([event(0, "job.poison")]);
  await waitFor(async () => (await client.groups.describe(group)).deadLetters === 1, `a dead letter in ${group}`);
  failing.close();
  await loop;
  return ((await client.groups.deadLetters(group))[0]?.id ?? "") as string;
}
