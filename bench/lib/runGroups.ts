// One measured consumer-group run: N members (one per load process) share a
// live stream with explicit acknowledgements while a publisher writes at a
// fixed rate. Correct means every event was handed to exactly one member,
// exactly once (nobody fails in this scenario, so nothing may be redelivered).
import { setTimeout as sleep } from "node:timers/promises";
import type { MemberJob, MemberKind } from "../load/groupMembers.js";
import type { MembersResult } from "../load/loadChild.js";
import type { PublishJob, PublishResult } from "../load/publishers.js";
import type { Child } from "./child.js";
import { Histogram } from "./histogram.js";
import { loadProcesses, releaseLoad } from "./loadPool.js";
import { cpuMicros } from "./procStats.js";
import { profileWindow, type Services, type SystemName, startSystem } from "./systems.js";
import { nowMs } from "./workload.js";

export interface GroupPlan {
  system: SystemName;
  members: number;
  total: number;
  rate: number;
}

export interface GroupMetrics {
  delivered: number;
  expected: number;
  correct: boolean;
  problems: string;
  deliveredPerSec: number;
  p50: number;
  p99: number;
  max: number;
  /** Smallest and largest member share of the events, as fractions. */
  minShare: number;
  maxShare: number;
  serverCpuUsPerEvent: number;
  redisCpuUsPerEvent: number | undefined;
  clientCpuUsPerEvent: number;
  redisCmdsPerEvent: number | undefined;
}

const GROUP = "bench-group";

export async function runGroups(plan: GroupPlan, svc: Services): Promise<GroupMetrics> {
  const inst = await startSystem(plan.system, svc);
  const prof = profileWindow(inst, plan.system);
  const children: Child[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  try {
    let kind: MemberKind;
    const base: Partial<MemberJob> = { total: plan.total, group: GROUP };
    if (plan.system === "streamgate") {
      kind = "sdk";
      base.address = inst.conn.address;
    } else if (plan.system === "ioredis") {
      kind = "ioredis";
      base.redisUrl = inst.conn.redisUrl;
      base.streamKey = inst.conn.streamKey;
      await svc.redis.admin.xgroup("CREATE", inst.conn.streamKey as string, GROUP, "$", "MKSTREAM");
    } else if (plan.system === "nats") {
      kind = "nats";
      const { connect, AckPolicy, DeliverPolicy } = await import("nats");
      const nc = await connect({ servers: inst.conn.natsUrl as string });
      const jsm = await nc.jetstreamManager();
      await jsm.consumers.add(inst.conn.natsStream as string, {
        durable_name: GROUP,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
        filter_subject: "ev.>",
        max_ack_pending: 10_000,
      });
      cleanups.push(() => nc.close());
      Object.assign(base, { natsUrl: inst.conn.natsUrl, natsStream: inst.conn.natsStream, natsDurable: GROUP });
    } else throw new Error(`${plan.system} has no consumer groups`);

    children.push(...(await loadProcesses(plan.members + 1)));
    const publisher = children[plan.members] as Child;
    await Promise.all(children.slice(0, plan.members).map((c, i) => c.call("join", [{ ...base, kind, name: `member-${i}` } as MemberJob])));
    await sleep(200);

    const pids = () => ({
      server: cpuMicros(inst.serverPid),
      redis: inst.redisPid ? cpuMicros(inst.redisPid) : 0,
      client: children.reduce((n, c) => n + cpuMicros(c.pid), 0),
    });
    await prof.start();
    const cpu0 = pids();
    const cmds0 = await inst.commands();
    const t0 = nowMs();
    const job: PublishJob = { ...inst.publisher, total: plan.total, projects: 10, rate: plan.rate, batch: 1, window: 64 };
    const published = await publisher.call<PublishResult>("publish", job);
    if (published.errors > 0) throw new Error(`publisher: ${published.errors} events failed: ${published.firstError}`);

    const memberChildren = children.slice(0, plan.members);
    let last = -1;
    let lastChange = Date.now();
    let lastAt = 0;
    for (;;) {
      const ps = await Promise.all(memberChildren.map((c) => c.call<{ received: number; lastAt: number }>("progress")));
      const received = ps.reduce((n, p) => n + p.received, 0);
      lastAt = Math.max(...ps.map((p) => p.lastAt));
      if (received !== last) {
        last = received;
        lastChange = Date.now();
      }
      if (received >= plan.total || Date.now() - lastChange > 5000) break;
      await sleep(20);
    }
    const cpu1 = pids();
    await prof.stop();
    const cmds1 = await inst.commands();
    const results = await Promise.all(memberChildren.map((c) => c.call<MembersResult>("finish")));

    const latency = new Histogram();
    let missing = 0;
    let twice = 0;
    const shares = results.map((r) => r.received[0] ?? 0);
    for (const r of results) latency.merge(r.latency);
    for (let seq = 0; seq < plan.total; seq++) {
      let n = 0;
      for (const r of results) n += (r.seen[0] as Uint8Array)[seq] as number;
      if (n === 0) missing++;
      else if (n > 1) twice += n - 1;
    }
    const delivered = plan.total - missing;
    const problems: string[] = [];
    if (missing) problems.push(`${missing} missing`);
    if (twice) problems.push(`${twice} delivered more than once`);
    const seconds = Math.max(1e-6, (lastAt - t0) / 1000);
    const received = shares.reduce((a, b) => a + b, 0);
    const per = (us: number) => (delivered > 0 ? us / delivered : 0);
    return {
      delivered,
      expected: plan.total,
      correct: problems.length === 0,
      problems: problems.join(", "),
      deliveredPerSec: delivered / seconds,
      p50: latency.quantile(0.5),
      p99: latency.quantile(0.99),
      max: latency.max,
      minShare: received ? Math.min(...shares) / received : 0,
      maxShare: received ? Math.max(...shares) / received : 0,
      serverCpuUsPerEvent: per(cpu1.server - cpu0.server),
      redisCpuUsPerEvent: inst.redisPid ? per(cpu1.redis - cpu0.redis) : undefined,
      clientCpuUsPerEvent: per(cpu1.client - cpu0.client),
      redisCmdsPerEvent: cmds0 !== undefined && cmds1 !== undefined ? (cmds1 - cmds0) / plan.total : undefined,
    };
  } finally {
    await releaseLoad(children);
    for (const c of cleanups) await c().catch(() => {});
    await inst.stop();
  }
}
