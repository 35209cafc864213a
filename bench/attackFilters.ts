// `npx tsx bench/attackFilters.ts`: the hostile-filter attack of issue #12, measured.
// A creator-tier tenant opens 40 subscriptions whose kref filters are
// `kref://**/` + `*a*/` x 250 + `bN` (about 1,000 characters) and publishes batches of
// 100 events with krefs `kref://` + `a/` x 500 + `c.d`; meanwhile another tenant
// publishes one event every 20 ms to its own subscriber, and a probe calls health.
// Prints the other tenant's publish-to-delivery latency and the health latency
// (medians, p99, max) as a table and JSON.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { createClient } from "../client-sdk/src/index.js";
import { KeyStore } from "../server/auth/keyStore.js";
import { withCommands } from "../server/redis/commands.js";
import { freePort, startLocalRedis } from "../server/redis/localRedis.js";
import { loadTiers } from "../server/tenancy/loadTiers.js";

const quick = process.argv.includes("--quick");
const dir = mkdtempSync(join(tmpdir(), "sg-attack-"));
const redis = await startLocalRedis({ dataDir: dir, appendOnly: false });
const prefix = "attack";
const admin = withCommands(new Redis(redis.url));
const store = new KeyStore(admin, prefix, loadTiers(undefined));
const attacker = await store.create({ tenant: "attacker", tier: "creator" });
const victim = await store.create({ tenant: "victim", tier: "creator" });
const port = await freePort();
const address = `127.0.0.1:${port}`;
const server = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
  env: {
    ...process.env,
    REDIS_URL: redis.url,
    STREAMGATE_LISTEN: address,
    STREAMGATE_AUTH: "keys",
    STREAMGATE_KEY_PREFIX: prefix,
    STREAMGATE_METRICS_LISTEN: "off",
    STREAMGATE_LOG_LEVEL: "warn",
  },
  stdio: ["ignore", "ignore", "inherit"],
});
const bad = createClient({ address, token: attacker.token });
const good = createClient({ address, token: victim.token });
try {
  await good.health("", { timeoutMs: 20_000 }).catch(() => undefined);
  for (let i = 0; i < 100 && (await good.health().catch(() => "")) !== "SERVING"; i++) await new Promise((r) => setTimeout(r, 100));
  const hostile = Array.from({ length: 40 }, (_, n) =>
    bad.eventStream({ krefFilter: `kref://**/${"*a*/".repeat(250)}b${n}`, resume: false }),
  );
  await Promise.all(hostile.map((s) => s.ready));
  const watch = good.eventStream({ resume: false });
  await watch.ready;
  const sent = new Map<string, number>();
  const latencies: number[] = [];
  void (async () => {
    for await (const e of watch) {
      const at = sent.get(e.details.n as string);
      if (at !== undefined) latencies.push(performance.now() - at);
    }
  })().catch(() => undefined);
  let health: number[] = [];
  let running = true;
  const victimLoop = (async () => {
    for (let n = 0; running; n++) {
      sent.set(String(n), performance.now());
      await good.publish({ routingKey: "victim.tick", kref: "kref://v/s/t.k", details: { n: String(n) } });
      const h0 = performance.now();
      await good.health();
      health.push(performance.now() - h0);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const krefOf = (i: number) => `kref://${"a/".repeat(500)}c${i}.d`;
  const rounds = quick ? 3 : 30;
  // The same run without the attack first: the baseline to compare with.
  await new Promise((r) => setTimeout(r, quick ? 1000 : 3000));
  const baseline = { delivery: latencies.splice(0), health: health };
  health = [];
  const t0 = performance.now();
  for (let r = 0; r < rounds; ) {
    // Within the creator tier's publish rate: wait as the server says.
    const ok = await bad.publishBatch(Array.from({ length: 100 }, (_, i) => ({ routingKey: "attack.batch", kref: krefOf(i) }))).then(
      () => true,
      async (err: { trailers?: Record<string, string> }) => {
        const wait = Number(err.trailers?.["retry-after-ms"]);
        if (!(wait > 0)) throw err;
        await new Promise((res) => setTimeout(res, wait));
        return false;
      },
    );
    if (ok) r++;
  }
  const attackMs = performance.now() - t0;
  running = false;
  await victimLoop;
  const stat = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
    return { n: s.length, p50: q(0.5), p99: q(0.99), max: s[s.length - 1] ?? Number.NaN };
  };
  const result = {
    rounds,
    attackMs,
    baseline: { otherTenantDeliveryMs: stat(baseline.delivery), healthMs: stat(baseline.health) },
    otherTenantDeliveryMs: stat(latencies),
    healthMs: stat(health),
  };
  const row = (name: string, x: ReturnType<typeof stat>) =>
    `| ${name} | ${x.n} | ${x.p50.toFixed(1)} | ${x.p99.toFixed(1)} | ${x.max.toFixed(1)} |`;
  console.log(`attack: ${rounds} batches of 100 hostile krefs against 40 hostile filters, ${(attackMs / 1000).toFixed(1)} s\n`);
  console.log("| measured | samples | p50 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|");
  console.log(row("other tenant, publish to delivery, before the attack", result.baseline.otherTenantDeliveryMs));
  console.log(row("other tenant, publish to delivery, during the attack", result.otherTenantDeliveryMs));
  console.log(row("health Check, before the attack", result.baseline.healthMs));
  console.log(row("health Check, during the attack", result.healthMs));
  console.log(`\n${JSON.stringify(result)}`);
  for (const s of hostile) s.close();
  watch.close();
} finally {
  bad.close();
  good.close();
  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
  admin.disconnect();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
