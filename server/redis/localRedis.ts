// Starts a private redis-server child process: the embedded default of
// `npm start` (AOF on, data under the project) and the test setup's Redis.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";

export interface LocalRedis {
  url: string;
  port: number;
  process: ChildProcess;
  /** Stops the child (SIGTERM, then SIGKILL after 5 s); resolves once it has exited. */
  stop(): Promise<void>;
}

export interface LocalRedisOptions {
  dataDir: string;
  appendOnly: boolean;
  port?: number;
}

/** Raised when no redis-server binary can be found. */
export class RedisServerMissingError extends Error {
  override name = "RedisServerMissingError";
}

export function hasRedisServer(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

/** A free TCP port on 127.0.0.1 (asks the OS for one, then releases it). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

export async function startLocalRedis(opts: LocalRedisOptions): Promise<LocalRedis> {
  if (!hasRedisServer()) {
    throw new RedisServerMissingError(
      "REDIS_URL is not set and no redis-server is installed to start an embedded one. " +
        "Install Redis 7+ (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) " +
        "or set REDIS_URL=redis://host:6379 to use an existing Redis.",
    );
  }
  const dir = resolve(opts.dataDir);
  mkdirSync(dir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    opts.appendOnly ? "yes" : "no",
    "--daemonize",
    "no",
    "--protected-mode",
    "yes",
  ];
  const child = spawn("redis-server", args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((res) => child.once("exit", () => res()));
  const url = `redis://127.0.0.1:${port}`;

  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited at start (code ${child.exitCode}): ${stderr.trim()}`);
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => {});
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch {
      probe.disconnect();
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`redis-server on port ${port} did not answer within 10 s: ${stderr.trim()}`);
      }
      await sleep(50);
    }
  }

  return {
    url,
    port,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
