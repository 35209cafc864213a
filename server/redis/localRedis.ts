// Starts a private redis-server child process: the embedded default of
// `npm start` (AOF on, data under the project) and the test setup's Redis.
//
// Two guarantees, because two redis-servers appending to one AOF corrupt it:
// - redis-server ends with this process however it ends, SIGKILL included (a
//   watchdog shell, see WATCHDOG below);
// - at most one redis-server uses a data directory: a lock file names the
//   owning process, and a redis-server left on the directory by an owner that
//   is gone (an orphan) is stopped before a new one starts.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { constants } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import type { Logger } from "../observability/logger.js";
import { type DirLock, lockDataDir } from "./dataDirLock.js";
import { isRedisServerIn, PID_FILE, redisServersIn, stopOrphan } from "./processes.js";

export { DataDirInUseError } from "./dataDirLock.js";

export interface LocalRedis {
  url: string;
  port: number;
  /** redis-server itself (not its watchdog): `pid` is its pid, `kill()` signals it (e.g. SIGSTOP in tests). */
  process: RedisProcess;
  /**
   * Stops redis-server (SIGTERM, so it writes its AOF; SIGKILL after 5 s), resolves once it has
   * exited, and releases the data directory.
   */
  stop(): Promise<void>;
}

/** The running redis-server process. */
export interface RedisProcess {
  readonly pid: number;
  /** Sends `signal` (default SIGTERM) to redis-server; false once it has exited. */
  kill(signal?: NodeJS.Signals | number): boolean;
}

export interface LocalRedisOptions {
  /** Where redis-server keeps its data (created if missing); only one LocalRedis at a time may use it. */
  dataDir: string;
  appendOnly: boolean;
  /** A free port when unset. */
  port?: number;
  /** Gets a warning when an orphaned redis-server is stopped, and an error when redis-server exits without stop(). */
  log?: Pick<Logger, "warn" | "error">;
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

/*
 * The watchdog: `sh -c WATCHDOG sh <redis-server args>`, its stdin a pipe whose only write end is
 * held by this process. However this process ends (SIGKILL, OOM killer, crash), the kernel closes
 * that end; `read` sees EOF and redis-server gets SIGTERM, so it writes its AOF and exits. An exit
 * hook could not do that: none runs on SIGKILL.
 * - Only the background `read` (the watcher) keeps the pipe, as fd 3: redis-server gets /dev/null
 *   as stdin (POSIX gives background jobs of a non-interactive sh that anyway; made explicit) and
 *   fd 3 closed, and the shell closes its own copy. The watcher is a process of its own, so it
 *   stops redis-server even if the shell itself is SIGKILLed (Node closes its end of the pipe when
 *   the shell exits).
 * - The shell is redis-server's parent and reaps it only in `wait`, so while the shell runs the
 *   pid cannot be reused: signals to it never hit another process (the shell kills the watcher
 *   right after the reap), and the shell's exit means redis-server has exited (its status is the
 *   shell's: 128+n for signal n).
 * - SIGTERM/INT/HUP to the shell are passed on as one SIGTERM (a second SIGINT would make Redis
 *   exit without saving).
 * - After the pid line the shell writes nothing, and ignores SIGPIPE, so that a dead parent's
 *   closed stdout cannot kill it before it has stopped redis-server.
 * - redis-server's log goes to stderr; stdout carries only the pid line.
 */
const WATCHDOG = `
trap '' PIPE
exec 3<&0 </dev/null
child=
trap '[ -z "$child" ] || kill -TERM "$child" 2>/dev/null' TERM INT HUP
redis-server "$@" 3<&- >&2 &
child=$!
echo "$child"
exec >/dev/null 2>&1
{ read _ <&3; kill -TERM "$child"; } &
watcher=$!
exec 3<&-
while :; do
  wait "$child"
  status=$?
  kill -0 "$child" || break
done
kill "$watcher"
wait "$watcher"
exit "$status"
`;

/**
 * Starts redis-server on `dataDir` (a free port unless `port` is given) and resolves once it
 * answers PING. Throws {@link RedisServerMissingError} without a redis-server binary, and
 * {@link DataDirInUseError} when a live Streamgate already uses the directory. A redis-server left
 * on the directory by a run that is gone is stopped first (and logged as a warning).
 */
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
  const lock = await lockDataDir(dir);
  try {
    // We hold the lock, so a redis-server still on the directory belongs to no live Streamgate:
    // its watchdog was SIGKILLed too, or it predates the watchdog.
    for (const pid of redisServersIn(dir)) {
      await stopOrphan(pid, dir);
      opts.log?.warn({ pid, dataDir: dir }, "stopped an orphaned redis-server left on the data dir by an earlier run");
    }
    return await spawnWatched(dir, opts, lock);
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function spawnWatched(dir: string, opts: LocalRedisOptions, lock: DirLock): Promise<LocalRedis> {
  const port = opts.port ?? (await freePort());
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--pidfile",
    join(dir, PID_FILE),
    "--save",
    "",
    "--appendonly",
    opts.appendOnly ? "yes" : "no",
    "--daemonize",
    "no",
    "--protected-mode",
    "yes",
  ];
  // detached: a process group of its own, so a terminal's Ctrl-C reaches only Node, which drains
  // its calls while Redis still answers and then stops it.
  const watchdog = spawn("sh", ["-c", WATCHDOG, "sh", ...args], { stdio: ["pipe", "pipe", "pipe"], detached: true });
  watchdog.stdin?.on("error", () => {}); // nothing is ever written; only its closing matters
  let output = "";
  watchdog.stderr?.on("data", (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  });
  let pidLine = "";
  watchdog.stdout?.on("data", (d: Buffer) => {
    pidLine += d.toString();
  });
  const redisPid = () => Number.parseInt(pidLine, 10) || 0;
  let spawnError: Error | undefined;
  const exited = new Promise<void>((res) => {
    watchdog.once("exit", () => res());
    watchdog.once("error", (err) => {
      spawnError = err; // no sh to run: then no exit event either
      res();
    });
  });
  // 'exit' can come before the last of redis-server's output has been read; 'close' comes after it.
  const closed = new Promise((res) => watchdog.once("close", res));
  const outputRead = () => Promise.race([closed, sleep(1000)]);
  const watchdogRunning = () => watchdog.exitCode === null && watchdog.signalCode === null && !spawnError;
  // Should someone SIGKILL the shell, redis-server outlives it for a moment (Node closes stdin when
  // the shell exits, so the watcher stops it): then only the process itself tells.
  const running = () => watchdogRunning() || (redisPid() > 0 && isRedisServerIn(redisPid(), dir));
  const signal = (sig: NodeJS.Signals | number) => {
    if (redisPid() === 0 || !running()) return false;
    try {
      process.kill(redisPid(), sig);
      return true;
    } catch {
      return false;
    }
  };

  let started = false;
  let stopping = false;
  const stop = async () => {
    stopping = true;
    watchdog.stdin?.destroy(); // EOF: the watchdog sends SIGTERM, exactly as when this process dies
    const timer = setTimeout(() => signal("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
    if (running()) await stopOrphan(redisPid(), dir);
    lock.release();
  };
  watchdog.once("exit", async (code, sig) => {
    if (!started || stopping) return;
    await outputRead();
    opts.log?.error(
      { pid: redisPid(), port, ...exitStatus(code, sig), output: output.trim().split("\n").slice(-5).join("\n") },
      "embedded redis-server exited unexpectedly; calls fail with UNAVAILABLE until it answers again (restart Streamgate)",
    );
  });
  lock.isActive = running;

  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (!watchdogRunning()) {
      await stop();
      if (spawnError) throw new Error(`cannot start redis-server through sh: ${spawnError.message}`);
      await outputRead();
      const { code, signal: sig } = exitStatus(watchdog.exitCode, watchdog.signalCode);
      throw new Error(`redis-server exited at start (${sig ? `signal ${sig}` : `code ${code}`}): ${output.trim()}`);
    }
    if (redisPid() > 0 && (await answers(url))) break;
    if (Date.now() > deadline) {
      stopping = true;
      signal("SIGKILL");
      await stop();
      throw new Error(`redis-server on port ${port} did not answer within 10 s: ${output.trim()}`);
    }
    await sleep(50);
  }
  started = true;
  return { url, port, process: { pid: redisPid(), kill: (sig = "SIGTERM") => signal(sig) }, stop };
}

async function answers(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on("error", () => {});
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** The watchdog's exit status is redis-server's, 128+n when signal n ended it. */
function exitStatus(code: number | null, sig: NodeJS.Signals | null): { code: number | null; signal: string | null } {
  if (sig) return { code: null, signal: `${sig} (its watchdog)` };
  if (code !== null && code > 128) {
    const name = Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0];
    return { code: null, signal: name ?? String(code - 128) };
  }
  return { code, signal: null };
}
