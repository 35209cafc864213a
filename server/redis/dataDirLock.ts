// The lock that keeps one redis-server per data directory: two appending to
// one AOF corrupt it. `<dir>/streamgate.lock` holds the owning process's pid; a
// lock whose owner is gone is taken over.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { looksLikeNode, processAlive, readText, removeFile } from "./processes.js";

const LOCK_FILE = "streamgate.lock";

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

export interface DirLock {
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
export async function lockDataDir(dir: string): Promise<DirLock> {
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
