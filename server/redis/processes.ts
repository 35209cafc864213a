// Other processes on this machine: whether one is alive, what it is, and
// stopping a redis-server that no live Streamgate owns. Used by the embedded
// Redis (localRedis.ts) and its data-directory lock (dataDirLock.ts).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync, unlinkSync } from "node:fs";
import { basename, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const HAS_PROC = existsSync("/proc/self/cmdline");
/** Where redis-server writes its pid, in its data directory (--pidfile). */
export const PID_FILE = "redis.pid";

/** A file's text, or undefined when it cannot be read. */
export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Removes a file; a missing one is fine. */
export function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** Whether `pid` is a live process (a zombie, dead but not yet reaped, is not). */
export function processAlive(pid: number): boolean {
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
export function looksLikeNode(pid: number): boolean {
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
export function isRedisServerIn(pid: number, dir: string): boolean {
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
export function redisServersIn(dir: string): number[] {
  const pids = new Set<number>();
  const fromFile = Number.parseInt(readText(join(dir, PID_FILE)) ?? "", 10);
  if (fromFile > 0) pids.add(fromFile);
  if (HAS_PROC) for (const name of readdirSync("/proc")) if (/^\d+$/.test(name)) pids.add(Number(name));
  return [...pids].filter((pid) => isRedisServerIn(pid, dir));
}

/** SIGTERM (Redis writes its AOF), SIGKILL after 5 s; resolves once the process is gone. */
export async function stopOrphan(pid: number, dir: string): Promise<void> {
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
