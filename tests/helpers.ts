import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { inject } from "vitest";
import type { KumihoServiceClient } from "../client-sdk/src/generated/kumiho/KumihoService.js";
import type { ProtoGrpcType } from "../client-sdk/src/generated/streamgate.js";
import { createClient, type Event, type EventSubscription, type StreamgateClient } from "../client-sdk/src/index.js";
import { type Streamgate, startStreamgate } from "../server/app.js";
import { type Config, loadConfig } from "../server/config/loadConfig.js";
import { createLogger } from "../server/observability/logger.js";
import { tenantKeys } from "../server/redis/layout.js";
import type { ResolveCaller } from "../server/tenancy/caller.js";

export const redisUrl = (): string => inject("redisUrl");

export interface TestServer {
  app: Streamgate;
  client: StreamgateClient;
  config: Config;
  redis: Redis;
  close(): Promise<void>;
}

/** A real Streamgate on 127.0.0.1:0 over the test Redis, with its own key prefix. */
export async function startTestServer(overrides: Partial<Config> = {}, resolveCaller?: ResolveCaller): Promise<TestServer> {
  const config = loadConfig(
    {},
    { listen: "127.0.0.1:0", metricsListen: "off", keyPrefix: `test-${randomUUID()}`, logLevel: "silent", feedLingerMs: 0, ...overrides },
  );
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? config.logLevel);
  const app = await startStreamgate({ config, log, redisUrl: redisUrl(), resolveCaller });
  const client = createClient({ address: app.address });
  const redis = new Redis(redisUrl());
  return {
    app,
    client,
    config,
    redis,
    async close() {
      client.close();
      await app.close(2000);
      redis.disconnect();
    },
  };
}

/** Collects `n` events from a subscription, then stops iterating (which cancels the call). */
export async function take(sub: EventSubscription, n: number): Promise<Event[]> {
  const out: Event[] = [];
  if (n === 0) return out;
  for await (const e of sub) {
    out.push(e);
    if (out.length >= n) break;
  }
  return out;
}

/** Polls until `check` returns true or `ms` elapse; throws with `what` on timeout. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function event(i: number, routingKey = "revision.created", kref = `kref://film/shots/sh${String(i).padStart(3, "0")}.model?r=1`) {
  return { routingKey, kref, author: "tester", details: { i: String(i) } };
}

/** A bare grpc-js client of kumiho.KumihoService, as Kumiho's own SDKs would call it. */
export async function rawKumihoClient(address: string) {
  const grpc = await import("@grpc/grpc-js");
  const { fromJSON } = await import("@grpc/proto-loader");
  const { descriptor } = await import("../client-sdk/src/generated/descriptor.js");
  const def = fromJSON(descriptor, { longs: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType;
  return new pkg.kumiho.KumihoService(address, grpc.credentials.createInsecure()) as KumihoServiceClient;
}

/** Reads a raw server stream to its end or error; resolves with messages and the final status. */
export function drainCall(call: import("@grpc/grpc-js").ClientReadableStream<unknown>, max = Number.POSITIVE_INFINITY) {
  return new Promise<{ messages: unknown[]; error?: import("@grpc/grpc-js").ServiceError }>((resolve) => {
    const messages: unknown[] = [];
    call.on("data", (m) => {
      messages.push(m);
      if (messages.length >= max) {
        call.cancel();
        resolve({ messages });
      }
    });
    call.on("error", (error: import("@grpc/grpc-js").ServiceError) => resolve({ messages, error }));
    call.on("end", () => resolve({ messages }));
  });
}

/** A server that can be stopped and started again on the same port and key prefix, as a restart would. */
export interface RestartableServer {
  /** The running instance (replaced by each start()). */
  readonly app: Streamgate;
  readonly address: string;
  readonly config: Config;
  /** The tenant's event stream key in Redis. */
  readonly streamKey: string;
  /** Graceful stop (app.close()): open streams end with UNAVAILABLE and their last cursor. */
  stop(): Promise<void>;
  /** Starts a new instance on the same port with the same key prefix. */
  start(): Promise<void>;
}

export async function startRestartableServer(url: string = redisUrl(), overrides: Partial<Config> = {}): Promise<RestartableServer> {
  const base = {
    keyPrefix: `test-${randomUUID()}`,
    logLevel: "silent",
    metricsListen: "off",
    feedLingerMs: 0,
    shutdownGraceMs: 1000,
    ...overrides,
  } as const;
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? "silent");
  let config = loadConfig({}, { ...base, listen: "127.0.0.1:0" });
  let app = await startStreamgate({ config, log, redisUrl: url });
  config = loadConfig({}, { ...base, listen: `127.0.0.1:${app.port}` });
  let running = true;
  return {
    get app() {
      return app;
    },
    address: app.address,
    config,
    streamKey: tenantKeys(config.keyPrefix, config.tenant).events,
    async stop() {
      if (!running) return;
      running = false;
      await app.close(1000);
    },
    async start() {
      if (running) return;
      app = await startStreamgate({ config, log, redisUrl: url });
      running = true;
    },
  };
}

/** The Redis stream ID a cursor names ("<ms>-<seq>.<epoch>" -> "<ms>-<seq>"). */
export function idOf(cursor: string): string {
  const dot = cursor.indexOf(".");
  return dot < 0 ? cursor : cursor.slice(0, dot);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
