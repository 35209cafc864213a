// One measured run of a streaming scenario against one system: start it fresh,
// open the subscribers in load processes, replay history or publish live, wait
// for every subscriber's events, and read CPU, memory and Redis commands.
import { setTimeout as sleep } from "node:timers/promises";
import type { CollectResult, SubscribeJob } from "../load/loadChild.js";
import type { PublishJob, PublishResult } from "../load/publishers.js";
import type { Start } from "../load/subscribers.js";
import { benchModule, type Child, spawnChild } from "./child.js";
import { Histogram } from "./histogram.js";
import { cpuMicros, peakRssBytes, rssBytes } from "./procStats.js";
import { profileWindow, type Services, type SystemName, startSystem } from "./systems.js";
import { nowMs, type SubSpec } from "./workload.js";

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

const LOAD = benchModule("../load/loadChild", import.meta.url);

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
    for (let i = 0; i < procs; i++) loads.push(spawnChild(`load-${i}`, LOAD));
    if (plan.publish) publisher = spawnChild("publisher", LOAD);
    const share = Math.ceil(plan.subs.length / procs);
    const jobs: SubscribeJob[] = loads.map((_, i) => ({
      kind: inst.subscriberKind,
      conn: inst.conn,
      subs: plan.subs.slice(i * share, (i + 1) * share),
      start: plan.start,
      total: plan.total,
      projects: plan.projects,
      perGroup: plan.perGroup,
      latency: plan.latency,
    }));
    // Children are up once they answer; their start-up is not measured.
    await Promise.all(loads.map((c) => c.call("close")));
    if (publisher) await publisher.call("close");

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
    if (!plan.publish) await prof.start();
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
      await prof.start();
      cpu0 = pids();
      cmds0 = await inst.commands();
      t0 = nowMs();
      const job: PublishJob = { ...inst.publisher, total: plan.total, projects: plan.projects, ...plan.publish };
      published = await publisher.call<PublishResult>("publish", job);
      if (published.errors > 0) throw new Error(`publisher: ${published.errors} events failed: ${published.firstError}`);
    }
    const results = await Promise.all(loads.map((c) => c.call<CollectResult>("collect", { idleMs: 5000 })));
    const cpu1 = pids();
    const cmds1 = await inst.commands();
    await prof.stop();

    const latency = new Histogram();
    for (const r of results) latency.merge(r.latency);
    const expected = sum(results.map((r) => r.expected));
    const received = sum(results.map((r) => r.received));
    const duplicates = sum(results.map((r) => r.duplicates));
    const unexpected = sum(results.map((r) => r.unexpected));
    const outOfOrder = sum(results.map((r) => r.outOfOrder));
    const complete = sum(results.map((r) => r.complete));
    const delivered = received - duplicates - unexpected;
    const lastAt = Math.max(...results.map((r) => r.lastAt));
    const seconds = Math.max(1e-6, (lastAt - t0) / 1000);
    const problems: string[] = [];
    if (delivered < expected) problems.push(`${expected - delivered} missing`);
    if (duplicates) problems.push(`${duplicates} duplicates`);
    if (unexpected) problems.push(`${unexpected} unexpected`);
    if (outOfOrder) problems.push(`${outOfOrder} out of order`);
    if (complete < plan.subs.length) problems.push(`${plan.subs.length - complete} of ${plan.subs.length} subscribers incomplete`);
    const per = (us: number) => (delivered > 0 ? us / delivered : 0);
    const wall = (nowMs() - t0) / 1000;
    return {
      subscribers: plan.subs.length,
      delivered,
      expected,
      correct: problems.length === 0,
      problems: problems.join(", "),
      seconds,
      deliveredPerSec: delivered / seconds,
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
      redisCmdsPerEvent: cmds0 !== undefined && cmds1 !== undefined && delivered > 0 ? (cmds1 - cmds0) / delivered : undefined,
    };
  } finally {
    await Promise.all(loads.map((c) => c.call("close").catch(() => {})));
    await Promise.all([...loads, ...(publisher ? [publisher] : [])].map((c) => c.stop()));
    await inst.stop();
  }
}
