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
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { constants } from "node:os";
import { basename, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import type { Logger } from "../observability/logger.js";

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

/** Raised when another live Streamgate (or this process) already runs a redis-server on the data directory. */
export class DataDirInUseError extends Error {
  override name = "DataDirInUseError";
  constructor(
    readonly dataDir: string,
    /** The process holding the directory. */
    readonly pid: number,
  ) {
    super(
      pid === process.pid
        ? `this process (pid ${pid}) already runs a redis-server on ${dataDir}; stop that one first`
        : `another Streamgate (pid ${pid}) is using ${dataDir}; stop it, or set STREAMGATE_DATA_DIR to another directory, or REDIS_URL to use your own Redis`,
    );
  }
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

const LOCK_FILE = "streamgate.lock";
const PID_FILE = "redis.pid";
const HAS_PROC = existsSync("/proc/self/cmdline");

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

// --- The data directory lock -------------------------------------------------------------------

interface DirLock {
  /** Whether its redis-server still runs; this process may replace a lock of its own whose has exited. */
  isActive: () => boolean;
  /** Removes the lock file (if still ours); idempotent. */
  release(): void;
}

/** The locks this process holds, by directory; released by stop() or at exit. */
const held = new Map<string, DirLock>();
let exitHookInstalled = false;

/**
 * Takes `<dir>/streamgate.lock` (created exclusively, holding our pid). A lock whose owner is gone
 * is taken over; one whose owner lives throws {@link DataDirInUseError}. Only a SIGKILL leaves a
 * lock behind, and then its owner is gone.
 */
async function lockDataDir(dir: string): Promise<DirLock> {
  const path = join(dir, LOCK_FILE);
  const mine = `${process.pid}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, mine, { flag: "wx" });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 5) throw err;
    }
    const { text, pid } = await readLock(path);
    if (pid === process.pid) {
      // Ours, from an earlier startLocalRedis; or, without an entry, from an earlier process that had
      // our pid (a container restarted after a SIGKILL gets the same pids again).
      const earlier = held.get(dir);
      if (earlier?.isActive()) throw new DataDirInUseError(dir, pid);
      earlier?.release();
    } else if (pid !== undefined && processAlive(pid) && looksLikeNode(pid)) {
      throw new DataDirInUseError(dir, pid);
    }
    // Stale. Removed only if unchanged, so that of two starts taking it over at once, the second
    // does not delete the first one's fresh lock (a few microseconds of race remain).
    if (readText(path) === text) removeFile(path);
  }
  const lock: DirLock = {
    isActive: () => true,
    release() {
      if (held.get(dir) !== lock) return;
      held.delete(dir);
      if (readText(path) === mine) removeFile(path);
    },
  };
  held.set(dir, lock);
  if (!exitHookInstalled) process.on("exit", releaseAll);
  exitHookInstalled = true;
  return lock;
}

function releaseAll(): void {
  for (const lock of [...held.values()]) lock.release();
}

/** The lock's text and owner; waits briefly for an owner that has created it but not written it yet. */
async function readLock(path: string): Promise<{ text: string | undefined; pid: number | undefined }> {
  let text: string | undefined;
  for (let i = 0; i < 10; i++) {
    text = readText(path);
    const pid = Number.parseInt(text ?? "", 10);
    if (pid > 0) return { text, pid };
    if (text === undefined) break;
    await sleep(20);
  }
  return { text, pid: undefined };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

// --- Other processes: who is alive, and what it is ---------------------------------------------

/** Whether `pid` is a live process (a zombie, dead but not yet reaped, is not). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false; // EPERM: alive, another user's
  }
  if (!HAS_PROC) return true;
  const stat = readText(`/proc/${pid}/stat`);
  return stat !== undefined && stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
}

/** A process's command line, from /proc or else ps; undefined when neither can tell. */
function commandLine(pid: number): string[] | undefined {
  if (HAS_PROC) return readText(`/proc/${pid}/cmdline`)?.split("\0").filter(Boolean);
  const ps = spawnSync("ps", ["-o", "command=", "-p", String(pid)], { encoding: "utf8" });
  return ps.status === 0 ? ps.stdout.trim().split(/\s+/) : undefined;
}

/**
 * Whether a live pid is still the Node process that wrote a lock, not a later process that got its
 * pid. When that cannot be told, it is assumed to be: refusing to start can be fixed, two
 * redis-servers on one AOF cannot.
 */
function looksLikeNode(pid: number): boolean {
  const argv = commandLine(pid);
  if (!argv) return true;
  if (/node/i.test(basename(argv[0] ?? ""))) return true;
  try {
    return HAS_PROC && readlinkSync(`/proc/${pid}/exe`) === realpathSync(process.execPath);
  } catch {
    return !HAS_PROC;
  }
}

/**
 * Whether `pid` is a live redis-server working on `dir`. On Linux its working directory must be
 * `dir` (redis-server changes to --dir), so a reused pid, or the machine's own Redis, never matches;
 * elsewhere the name has to do (the pid comes from this directory's pidfile there).
 */
function isRedisServerIn(pid: number, dir: string): boolean {
  if (!HAS_PROC) return processAlive(pid) && (commandLine(pid)?.join(" ").includes("redis-server") ?? false);
  // The name first: cheap, and it rules out nearly every process when all of /proc is scanned.
  if (readText(`/proc/${pid}/comm`)?.trim() !== "redis-server" || !processAlive(pid)) return false;
  try {
    return readlinkSync(`/proc/${pid}/cwd`) === realpathSync(dir);
  } catch {
    return false; // another user's process: we could not stop it anyway
  }
}

/** The redis-servers on `dir`: the one its pidfile names and, on Linux, any other whose working directory it is. */
function redisServersIn(dir: string): number[] {
  const pids = new Set<number>();
  const fromFile = Number.parseInt(readText(join(dir, PID_FILE)) ?? "", 10);
  if (fromFile > 0) pids.add(fromFile);
  if (HAS_PROC) for (const name of readdirSync("/proc")) if (/^\d+$/.test(name)) pids.add(Number(name));
  return [...pids].filter((pid) => isRedisServerIn(pid, dir));
}

/** SIGTERM (Redis writes its AOF), SIGKILL after 5 s; resolves once the process is gone. */
async function stopOrphan(pid: number, dir: string): Promise<void> {
  for (const sig of ["SIGTERM", "SIGKILL"] as const) {
    try {
      process.kill(pid, sig);
    } catch {
      return; // already gone
    }
    const deadline = Date.now() + 5000;
    while (processAlive(pid)) {
      if (Date.now() > deadline) break;
      await sleep(50);
    }
    if (!processAlive(pid)) return;
  }
  throw new Error(`redis-server (pid ${pid}) on ${dir} did not exit after SIGKILL`);
}
