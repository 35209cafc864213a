// The bench's own backing services, on free ports: a private redis-server (never
// the machine's shared 6379) and, when the binary is installed, a nats-server
// with JetStream for the reference figures.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { freePort, type LocalRedis, startLocalRedis } from "../../server/redis/localRedis.js";

export interface BenchRedis {
  url: string;
  pid: number;
  /** A plain connection for setup and INFO. */
  admin: Redis;
  /** Total commands Redis has executed (INFO commandstats), excluding INFO itself. */
  commandCount(): Promise<number>;
  stop(): Promise<void>;
}

export async function startBenchRedis(): Promise<BenchRedis> {
  const dir = mkdtempSync(join(tmpdir(), "streamgate-bench-redis-"));
  const redis: LocalRedis = await startLocalRedis({ dataDir: dir, appendOnly: false });
  const admin = new Redis(redis.url);
  return {
    url: redis.url,
    pid: redis.process.pid as number,
    admin,
    async commandCount() {
      const info = await admin.info("commandstats");
      let n = 0;
      for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (m[1] !== "info") n += Number(m[2]);
      return n;
    },
    async stop() {
      admin.disconnect();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface BenchNats {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export function hasNatsServer(): boolean {
  return spawnSync("nats-server", ["--version"], { stdio: "ignore" }).status === 0;
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nats-server exited at start (code ${child.exitCode})`);
    const ok = await new Promise<boolean>((res) => {
      const s = connect(port, "127.0.0.1", () => {
        s.destroy();
        res(true);
      });
      s.on("error", () => res(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nats-server on port ${port} did not listen within 10 s`);
    await sleep(50);
  }
}

/** A private nats-server with JetStream (streams are created with memory storage by the bench). */
export async function startBenchNats(): Promise<BenchNats> {
  const dir = mkdtempSync(join(tmpdir(), "streamgate-bench-nats-"));
  const port = await freePort();
  const child = spawn("nats-server", ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir], { stdio: "ignore" });
  await waitForPort(port, child);
  const exited = new Promise<void>((res) => child.once("exit", () => res()));
  return {
    url: `nats://127.0.0.1:${port}`,
    pid: child.pid as number,
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
