// One measured run of a streaming scenario against one system: start it fresh,
// open the subscribers in load processes, replay history or publish live, wait
// for every subscriber's events, and read CPU, memory and Redis commands.
import { setTimeout as sleep } from "node:timers/promises";
import type { CollectResult, SubscribeJob } from "../load/loadChild.js";
import type { PublishJob, PublishResult } from "../load/publishers.js";
import type { Start } from "../load/subscribers.js";
import type { Child } from "./child.js";
import { Histogram } from "./histogram.js";
import { loadProcesses, releaseLoad } from "./loadPool.js";
import { cpuMicros, peakRssBytes, rssBytes } from "./procStats.js";
import { profileWindow, type Services, type SystemName, startSystem } from "./systems.js";
import { expectedCount, nowMs, type SubSpec } from "./workload.js";

export interface StreamPlan {
  system: SystemName;
  subs: SubSpec[];
  start: Start;
  total: number;
  projects: number;
  /** Live publishing; absent: the events are preloaded and replayed. */
  publish?: { rate?: number; batch: number; window: number; tickMs?: number };
  loadProcs: number;
  /** Subscribers per channel/connection. */
  perGroup: number;
  latency: boolean;
  /**
   * Live runs: events [0, warmup) are published first, as a warm-up (JIT, connections, buffers),
   * and left out of the CPU, throughput and latency figures (still checked for correctness).
   * Default: 2 s worth at a fixed rate, else a tenth of the events.
   */
  warmup?: number;
  /** How long the warm-up may drain before measuring (default 1 s). */
  drainMs?: number;
  /** Measure the server's RSS growth per idle subscription. */
  idleRss?: boolean;
  overrides?: Record<string, unknown>;
}

export interface StreamMetrics {
  subscribers: number;
  delivered: number;
  expected: number;
  correct: boolean;
  problems: string;
  seconds: number;
  deliveredPerSec: number;
  publishedPerSec: number | undefined;
  p50: number | undefined;
  p99: number | undefined;
  max: number | undefined;
  serverCpuUsPerEvent: number;
  redisCpuUsPerEvent: number | undefined;
  clientCpuUsPerEvent: number;
  /** Load-generator CPU over the run, in cores (1.0 = one core busy). */
  clientCores: number;
  serverCores: number;
  serverPeakRssMB: number | undefined;
  rssPerSubKB: number | undefined;
  /** JS heap growth per idle subscription (the part of rssPerSubKB that is JavaScript objects). */
  heapPerSubKB: number | undefined;
  redisCmdsPerEvent: number | undefined;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

async function waitRegistered(registered: () => Promise<number | undefined>, n: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const got = await registered();
    if (got === undefined || got >= n) return;
    if (Date.now() > deadline) throw new Error(`only ${got} of ${n} subscribers registered within 60 s`);
    await sleep(20);
  }
}

export async function runStream(plan: StreamPlan, svc: Services): Promise<StreamMetrics> {
  const inst = await startSystem(plan.system, svc, plan.overrides);
  const prof = profileWindow(inst, plan.system);
  const loads: Child[] = [];
  let publisher: Child | undefined;
  try {
    if (!plan.publish) await inst.preload(plan.total, plan.projects);
    const procs = Math.max(1, Math.min(plan.loadProcs, plan.subs.length));
    const children = await loadProcesses(procs + (plan.publish ? 1 : 0));
    loads.push(...children.slice(0, procs));
    if (plan.publish) publisher = children[procs];
    const share = Math.ceil(plan.subs.length / procs);
    const warmup = !plan.publish
      ? 0
      : Math.min(plan.total - 1, plan.warmup ?? (plan.publish.rate ? plan.publish.rate * 2 : Math.floor(plan.total / 10)));
    const jobs: SubscribeJob[] = loads.map((_, i) => ({
      kind: inst.subscriberKind,
      conn: inst.conn,
      subs: plan.subs.slice(i * share, (i + 1) * share),
      start: plan.start,
      total: plan.total,
      projects: plan.projects,
      perGroup: plan.perGroup,
      latency: plan.latency,
      warmup,
    }));

    let rss0 = 0;
    let heap0 = 0;
    if (plan.idleRss) {
      await inst.gc();
      rss0 = rssBytes(inst.serverPid);
      heap0 = (await inst.memory())?.heapUsed ?? 0;
    }
    const pids = () => ({
      server: cpuMicros(inst.serverPid),
      redis: inst.redisPid ? cpuMicros(inst.redisPid) : 0,
      client: sum(loads.map((c) => cpuMicros(c.pid))) + (publisher ? cpuMicros(publisher.pid) : 0),
    });
    // A replay is measured from the subscribe calls; a live run from the first publish.
    if (!plan.publish) {
      await prof.start();
      if (process.env.BENCH_PROFILE_CLIENT) await loads[0]?.call("profileStart");
    }
    let cpu0 = pids();
    let cmds0 = await inst.commands();
    let t0 = nowMs();
    await Promise.all(loads.map((c, i) => c.call("subscribe", jobs[i])));
    if (plan.publish) await waitRegistered(() => inst.registered(), plan.subs.length);

    let rssPerSubKB: number | undefined;
    let heapPerSubKB: number | undefined;
    // Redis and nats-server are shared by every run, so their growth is not this run's.
    if (plan.idleRss && plan.system !== "ioredis" && plan.system !== "nats") {
      await sleep(300);
      await inst.gc();
      rssPerSubKB = (rssBytes(inst.serverPid) - rss0) / plan.subs.length / 1024;
      const heap = (await inst.memory())?.heapUsed;
      if (heap !== undefined) heapPerSubKB = (heap - heap0) / plan.subs.length / 1024;
    }

    let published: PublishResult | undefined;
    if (plan.publish && publisher) {
      // Systems that cannot say when a subscriber is registered get a moment to settle.
      if ((await inst.registered()) === undefined) await sleep(500);
      if (warmup > 0) {
        const warm = await publisher.call<PublishResult>("publish", {
          ...inst.publisher,
          total: warmup,
          projects: plan.projects,
          ...plan.publish,
        });
        if (warm.errors > 0) throw new Error(`publisher (warm-up): ${warm.errors} events failed: ${warm.firstError}`);
        await sleep(plan.drainMs ?? 1000); // let the warm-up drain before measuring
      }
      await prof.start();
      // BENCH_PROFILE_CLIENT=<dir>: also profile the first load process (the client side).
      if (process.env.BENCH_PROFILE_CLIENT) await loads[0]?.call("profileStart");
      cpu0 = pids();
      cmds0 = await inst.commands();
      t0 = nowMs();
      const job: PublishJob = { ...inst.publisher, from: warmup, total: plan.total, projects: plan.projects, ...plan.publish };
      published = await publisher.call<PublishResult>("publish", job);
      if (published.errors > 0) throw new Error(`publisher: ${published.errors} events failed: ${published.firstError}`);
    }
    const results = await Promise.all(loads.map((c) => c.call<CollectResult>("collect", { idleMs: 5000 })));
    const cpu1 = pids();
    const cmds1 = await inst.commands();
    await prof.stop();
    if (process.env.BENCH_PROFILE_CLIENT) {
      await loads[0]?.call("profileStop", { file: `${process.env.BENCH_PROFILE_CLIENT}/client-${plan.system}-${Date.now()}.cpuprofile` });
    }

    const latency = new Histogram();
    for (const r of results) latency.merge(r.latency);
    const expected = sum(results.map((r) => r.expected));
    const received = sum(results.map((r) => r.received));
    const duplicates = sum(results.map((r) => r.duplicates));
    const unexpected = sum(results.map((r) => r.unexpected));
    const outOfOrder = sum(results.map((r) => r.outOfOrder));
    const complete = sum(results.map((r) => r.complete));
    const delivered = received - duplicates - unexpected;
    // Throughput and CPU per event count the measured deliveries (after the warm-up) only.
    const warmBySpec = new Map<string, number>();
    const warmOf = (spec: SubSpec) => {
      const key = JSON.stringify(spec);
      let n = warmBySpec.get(key);
      if (n === undefined) {
        n = expectedCount(spec, warmup, plan.projects);
        warmBySpec.set(key, n);
      }
      return n;
    };
    const warmDelivered = warmup > 0 ? sum(plan.subs.map(warmOf)) : 0;
    const measured = Math.max(0, delivered - warmDelivered);
    const lastAt = Math.max(...results.map((r) => r.lastAt));
    const seconds = Math.max(1e-6, (lastAt - t0) / 1000);
    const problems: string[] = [];
    if (delivered < expected) problems.push(`${expected - delivered} missing`);
    if (duplicates) problems.push(`${duplicates} duplicates`);
    if (unexpected) problems.push(`${unexpected} unexpected`);
    if (outOfOrder) problems.push(`${outOfOrder} out of order`);
    if (complete < plan.subs.length) problems.push(`${plan.subs.length - complete} of ${plan.subs.length} subscribers incomplete`);
    const per = (us: number) => (measured > 0 ? us / measured : 0);
    const wall = (nowMs() - t0) / 1000;
    return {
      subscribers: plan.subs.length,
      delivered,
      expected,
      correct: problems.length === 0,
      problems: problems.join(", "),
      seconds,
      deliveredPerSec: measured / seconds,
      publishedPerSec: published ? published.published / ((published.endedAt - published.startedAt) / 1000) : undefined,
      p50: plan.latency ? latency.quantile(0.5) : undefined,
      p99: plan.latency ? latency.quantile(0.99) : undefined,
      max: plan.latency ? latency.max : undefined,
      serverCpuUsPerEvent: per(cpu1.server - cpu0.server),
      redisCpuUsPerEvent: inst.redisPid ? per(cpu1.redis - cpu0.redis) : undefined,
      clientCpuUsPerEvent: per(cpu1.client - cpu0.client),
      clientCores: (cpu1.client - cpu0.client) / 1e6 / wall,
      serverCores: (cpu1.server - cpu0.server) / 1e6 / wall,
      // Redis and nats-server live for the whole bench, so their peak is not this run's.
      serverPeakRssMB: plan.system === "ioredis" || plan.system === "nats" ? undefined : peakRssBytes(inst.serverPid) / 1048576,
      rssPerSubKB,
      heapPerSubKB,
      redisCmdsPerEvent: cmds0 !== undefined && cmds1 !== undefined && measured > 0 ? (cmds1 - cmds0) / measured : undefined,
    };
  } finally {
    await releaseLoad([...loads, ...(publisher ? [publisher] : [])]);
    await inst.stop();
  }
}
