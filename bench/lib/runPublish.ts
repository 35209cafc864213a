// One measured publishing run: batches of events as fast as the system
// acknowledges them, with a few batches in flight, and no subscribers.
import type { PublishJob, PublishResult } from "../load/publishers.js";
import type { Child } from "./child.js";
import { loadProcesses, releaseLoad } from "./loadPool.js";
import { cpuMicros } from "./procStats.js";
import { profileWindow, type Services, type SystemName, startSystem } from "./systems.js";

export interface PublishPlan {
  system: SystemName;
  total: number;
  batch: number;
  window: number;
  /** Streamgate: publish with the SDK's idempotency keys (default) or none. */
  keys?: boolean;
}

export interface PublishMetrics {
  published: number;
  correct: boolean;
  problems: string;
  eventsPerSec: number;
  serverCpuUsPerEvent: number;
  redisCpuUsPerEvent: number | undefined;
  clientCpuUsPerEvent: number;
  redisCmdsPerEvent: number | undefined;
}

export async function runPublish(plan: PublishPlan, svc: Services): Promise<PublishMetrics> {
  const inst = await startSystem(plan.system, svc);
  const prof = profileWindow(inst, plan.system);
  const [publisher] = (await loadProcesses(1)) as [Child];
  try {
    const cpu = () => ({
      server: cpuMicros(inst.serverPid),
      redis: inst.redisPid ? cpuMicros(inst.redisPid) : 0,
      client: cpuMicros(publisher.pid),
    });
    await prof.start();
    if (process.env.BENCH_PROFILE_CLIENT) await publisher.call("profileStart");
    const cpu0 = cpu();
    const cmds0 = await inst.commands();
    const job: PublishJob = {
      ...inst.publisher,
      total: plan.total,
      projects: 10,
      batch: plan.batch,
      window: plan.window,
      keys: plan.keys,
    };
    const r = await publisher.call<PublishResult>("publish", job);
    const cpu1 = cpu();
    await prof.stop();
    if (process.env.BENCH_PROFILE_CLIENT) {
      await publisher.call("profileStop", {
        file: `${process.env.BENCH_PROFILE_CLIENT}/publisher-${plan.system}-${Date.now()}.cpuprofile`,
      });
    }
    const cmds1 = await inst.commands();
    const per = (us: number) => (r.published > 0 ? us / r.published : 0);
    return {
      published: r.published,
      correct: r.errors === 0 && r.published === plan.total,
      problems: r.errors ? `${r.errors} failed: ${r.firstError}` : "",
      eventsPerSec: r.published / ((r.endedAt - r.startedAt) / 1000),
      serverCpuUsPerEvent: per(cpu1.server - cpu0.server),
      redisCpuUsPerEvent: inst.redisPid ? per(cpu1.redis - cpu0.redis) : undefined,
      clientCpuUsPerEvent: per(cpu1.client - cpu0.client),
      redisCmdsPerEvent: cmds0 !== undefined && cmds1 !== undefined && r.published > 0 ? (cmds1 - cmds0) / r.published : undefined,
    };
  } finally {
    await releaseLoad([publisher]);
    await inst.stop();
  }
}
