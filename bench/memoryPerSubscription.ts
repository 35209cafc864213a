// Diagnostics: `node dist/bench/bench/memoryPerSubscription.js [N] [streamgate|bare-grpc]`
// (after `npm run bench` has compiled the bench) prints the server's memory growth per idle
// subscription; with SNAP=1 it also writes heap snapshots before and after to /tmp.
import { benchModule, spawnChild } from "./lib/child.js";
import { startBenchRedis } from "./lib/services.js";
import { startSystem } from "./lib/systems.js";

const redis = await startBenchRedis();
const inst = await startSystem((process.argv[3] ?? "streamgate") as "streamgate" | "bare-grpc", { redis, nats: undefined });
const load = spawnChild("load", benchModule("./load/loadChild", import.meta.url));
await load.call("close");
const n = Number(process.argv[2] ?? 2000);
const m0 = (await inst.memory()) as NodeJS.MemoryUsage;
if (process.env.SNAP) await inst.control?.call("heapSnapshot", { file: "/tmp/h0.heapsnapshot" });
await load.call("subscribe", {
  kind: inst.subscriberKind,
  conn: inst.conn,
  subs: Array.from({ length: n }, (_, j) => ({ project: j })),
  start: "live",
  total: 10,
  projects: n,
  perGroup: 100,
  latency: false,
});
while (((await inst.registered()) ?? 0) < n) await new Promise((r) => setTimeout(r, 50));
await new Promise((r) => setTimeout(r, 500));
const m1 = (await inst.memory()) as NodeJS.MemoryUsage;
for (const k of Object.keys(m1) as (keyof NodeJS.MemoryUsage)[]) console.log(k, ((m1[k] - m0[k]) / n / 1024).toFixed(2), "KB/sub");
if (process.env.SNAP) await inst.control?.call("heapSnapshot", { file: "/tmp/h1.heapsnapshot" });
await load.call("close");
await load.stop();
await inst.stop();
await redis.stop();
