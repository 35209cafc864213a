// The systems a scenario runs against, each started fresh per run so that peak
// memory belongs to that run: Streamgate (our SDK, batched frames), Streamgate
// to a Kumiho-style client (one message per event), the bare grpc-js server,
// raw ioredis against Redis, and NATS JetStream.
import { randomUUID } from "node:crypto";
import { toStreamFields } from "../../server/events/storedEvent.js";
import { tenantKeys } from "../../server/redis/layout.js";
import type { PublisherKind } from "../load/publishers.js";
import type { Connection, SubscriberKind } from "../load/subscribers.js";
import { benchModule, type Child, spawnChild } from "./child.js";
import type { BenchNats, BenchRedis } from "./services.js";
import { detailsOf, eventAt, natsSubjectOf } from "./workload.js";

export type SystemName = "streamgate" | "streamgate-kumiho" | "bare-grpc" | "ioredis" | "nats";

export interface Services {
  redis: BenchRedis;
  nats: BenchNats | undefined;
}

export interface Instance {
  conn: Connection;
  publisher: { kind: PublisherKind; address?: string; redisUrl?: string; streamKey?: string; natsUrl?: string };
  subscriberKind: SubscriberKind;
  /** The process doing this system's serving work (CPU per event, peak RSS). */
  serverPid: number;
  /** Redis, when the system sits in front of it (its CPU is reported separately). */
  redisPid: number | undefined;
  /** Redis commands executed so far, for systems backed by Redis. */
  commands(): Promise<number | undefined>;
  /** Subscribers the server side has registered (undefined: the system cannot say). */
  registered(): Promise<number | undefined>;
  /** Writes events [0, total) as history before a replay run. */
  preload(total: number, projects: number): Promise<void>;
  /** Collects garbage in the server process where it can (before memory readings). */
  gc(): Promise<void>;
  /** The server process's own memory figures after a GC (Node servers only). */
  memory(): Promise<NodeJS.MemoryUsage | undefined>;
  /** The server child itself, for ad-hoc diagnostics (Node servers only). */
  control: Child | undefined;
  /** CPU-profiles the server process between the two calls (Node servers only; see BENCH_PROFILE). */
  profile: { start(): Promise<void>; stop(file: string): Promise<void> } | undefined;
  stop(): Promise<void>;
}

const CHILD_FLAGS = ["--expose-gc"];

function profiler(child: Child): Instance["profile"] {
  return {
    start: () => child.call("profileStart"),
    stop: (file) => child.call("profileStop", { file }),
  };
}

async function redisPreload(redis: BenchRedis, key: string, total: number, projects: number): Promise<void> {
  for (let start = 0; start < total; start += 5000) {
    const p = redis.admin.pipeline();
    for (let seq = start; seq < Math.min(total, start + 5000); seq++) {
      const e = eventAt(seq, projects);
      p.xadd(
        key,
        "*",
        ...toStreamFields({ routingKey: e.routingKey, kref: e.kref, author: "bench", username: "", details: detailsOf(seq) }),
      );
    }
    await p.exec();
  }
}

async function streamgate(svc: Services, subscriberKind: SubscriberKind, overrides: Record<string, unknown>): Promise<Instance> {
  const keyPrefix = `bench-${randomUUID().slice(0, 8)}`;
  const child: Child = spawnChild("streamgate", benchModule("../targets/streamgateChild", import.meta.url), {}, CHILD_FLAGS);
  const { address } = await child.call<{ address: string }>("start", { redisUrl: svc.redis.url, keyPrefix, overrides });
  const streamKey = tenantKeys(keyPrefix, "default").events;
  return {
    conn: { address },
    publisher: { kind: "grpc", address },
    subscriberKind,
    serverPid: child.pid,
    redisPid: svc.redis.pid,
    commands: () => svc.redis.commandCount(),
    registered: () => child.call<number>("subscribers"),
    preload: (total, projects) => redisPreload(svc.redis, streamKey, total, projects),
    gc: () => child.call("gc"),
    memory: () => child.call("memory"),
    control: child,
    profile: profiler(child),
    async stop() {
      await child.call("stop").catch(() => {});
      await child.stop();
      await svc.redis.admin.flushall();
    },
  };
}

async function bare(): Promise<Instance> {
  const child = spawnChild("bare-grpc", benchModule("../targets/bareChild", import.meta.url), {}, CHILD_FLAGS);
  const { address } = await child.call<{ address: string }>("start");
  return {
    conn: { address },
    publisher: { kind: "grpc", address },
    subscriberKind: "kumiho",
    serverPid: child.pid,
    redisPid: undefined,
    commands: async () => undefined,
    registered: () => child.call<number>("subscribers"),
    preload: (total, projects) => child.call("preload", { total, projects }),
    gc: () => child.call("gc"),
    memory: () => child.call("memory"),
    control: child,
    profile: profiler(child),
    async stop() {
      await child.call("stop").catch(() => {});
      await child.stop();
    },
  };
}

async function ioredis(svc: Services): Promise<Instance> {
  const streamKey = `bench-raw-${randomUUID().slice(0, 8)}`;
  return {
    conn: { redisUrl: svc.redis.url, streamKey },
    publisher: { kind: "ioredis", redisUrl: svc.redis.url, streamKey },
    subscriberKind: "ioredis",
    serverPid: svc.redis.pid,
    redisPid: undefined,
    commands: () => svc.redis.commandCount(),
    async registered() {
      const info = await svc.redis.admin.info("clients");
      return Number(/blocked_clients:(\d+)/.exec(info)?.[1] ?? 0);
    },
    preload: (total, projects) => redisPreload(svc.redis, streamKey, total, projects),
    gc: async () => {},
    memory: async () => undefined,
    control: undefined,
    profile: undefined,
    async stop() {
      await svc.redis.admin.flushall();
    },
  };
}

async function nats(svc: Services): Promise<Instance> {
  const n = svc.nats as BenchNats;
  const { connect, RetentionPolicy, StorageType, JSONCodec } = await import("nats");
  const nc = await connect({ servers: n.url });
  const jsm = await nc.jetstreamManager();
  const stream = `bench_${randomUUID().slice(0, 8)}`;
  await jsm.streams.add({ name: stream, subjects: ["ev.>"], storage: StorageType.Memory, retention: RetentionPolicy.Limits });
  return {
    conn: { natsUrl: n.url, natsStream: stream },
    publisher: { kind: "nats", natsUrl: n.url },
    subscriberKind: "nats",
    serverPid: n.pid,
    redisPid: undefined,
    commands: async () => undefined,
    registered: async () => undefined,
    async preload(total, projects) {
      const js = nc.jetstream();
      const codec = JSONCodec();
      for (let start = 0; start < total; start += 1000) {
        const acks = [];
        for (let seq = start; seq < Math.min(total, start + 1000); seq++) {
          const e = eventAt(seq, projects);
          acks.push(
            js.publish(
              natsSubjectOf(e),
              codec.encode({ routingKey: e.routingKey, kref: e.kref, author: "bench", details: detailsOf(seq) }),
            ),
          );
        }
        await Promise.all(acks);
      }
    },
    gc: async () => {},
    memory: async () => undefined,
    control: undefined,
    profile: undefined,
    async stop() {
      await jsm.streams.delete(stream);
      await nc.close();
    },
  };
}

/** Starts one system for one run. `overrides` are Streamgate configuration options. */
export function startSystem(name: SystemName, svc: Services, overrides: Record<string, unknown> = {}): Promise<Instance> {
  switch (name) {
    case "streamgate":
      return streamgate(svc, "sdk", overrides);
    case "streamgate-kumiho":
      return streamgate(svc, "kumiho", overrides);
    case "bare-grpc":
      return bare();
    case "ioredis":
      return ioredis(svc);
    case "nats":
      return nats(svc);
  }
}

/**
 * With BENCH_PROFILE=<dir>, profiles the server between the returned start and
 * stop; the file is named after the case being run (BENCH_CASE, set by run.ts).
 */
export function profileWindow(inst: Instance, system: SystemName): { start(): Promise<void>; stop(): Promise<void> } {
  const dir = process.env.BENCH_PROFILE;
  if (!dir || !inst.profile) return { start: async () => {}, stop: async () => {} };
  const p = inst.profile;
  const name = `${(process.env.BENCH_CASE ?? "case").replace(/[^A-Za-z0-9_.-]+/g, "_")}-${system}-${Date.now()}.cpuprofile`;
  return { start: () => p.start(), stop: () => p.stop(`${dir}/${name}`) };
}
