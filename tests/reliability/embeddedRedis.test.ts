// The embedded redis-server of `npm start` never outlives the server and never shares its data
// dir: two redis-servers appending to one AOF would corrupt it. Real processes throughout: the
// server as `node --import tsx server/main.ts` on a temp data dir, never the machine's Redis.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createClient } from "../../client-sdk/src/index.js";
import { freePort, hasRedisServer } from "../../server/redis/localRedis.js";
import { event, take, waitFor } from "../helpers.js";

const STARTED = "started embedded redis-server (set REDIS_URL to use your own)";
const LISTENING = "streamgate listening";

type LogLine = Record<string, unknown>;

interface ServerProcess {
  child: ChildProcess;
  lines: LogLine[];
  stderr(): string;
  /** The first log line whose msg starts with `msg`; rejects if the server exits first or after 15 s. */
  next(msg: string): Promise<LogLine>;
  exited: Promise<number | null>;
}

function startServer(dataDir: string, env: Record<string, string> = {}): ServerProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
    env: {
      ...process.env,
      STREAMGATE_LISTEN: "127.0.0.1:0",
      STREAMGATE_METRICS_LISTEN: "off",
      STREAMGATE_DATA_DIR: dataDir,
      REDIS_URL: "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: LogLine[] = [];
  const listeners = new Set<() => void>();
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
    for (let nl = out.indexOf("\n"); nl >= 0; nl = out.indexOf("\n")) {
      lines.push(JSON.parse(out.slice(0, nl)) as LogLine);
      out = out.slice(nl + 1);
    }
    for (const l of listeners) l();
  });
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
  const next = (msg: string) =>
    new Promise<LogLine>((res, rej) => {
      const check = () => {
        const found = lines.find((l) => String(l.msg).startsWith(msg));
        if (found) done(() => res(found));
        else if (child.exitCode !== null || child.signalCode !== null) done(() => rej(new Error(`server exited before "${msg}": ${err}`)));
      };
      const timer = setTimeout(() => done(() => rej(new Error(`no "${msg}" within 15 s: ${err}`))), 15_000);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      child.once("exit", check);
      check();
    });
  return { child, lines, stderr: () => err, next, exited };
}

/** Whether `pid` runs (a zombie does not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat[stat.lastIndexOf(")") + 2] !== "Z";
}

/** Every redis-server whose working directory (its --dir) is `dir`, whoever started it. */
function redisServersIn(dir: string): number[] {
  const real = realpathSync(dir);
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        return (
          readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "redis-server" && readlinkSync(`/proc/${pid}/cwd`) === real && alive(pid)
        );
      } catch {
        return false;
      }
    });
}

const portOpen = (port: number) =>
  new Promise<boolean>((res) => {
    const s = createConnection({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      s.destroy();
      res(true);
    });
    s.once("error", () => res(false));
  });

const redisPort = (started: LogLine) => Number(String(started.redis).split(":").pop());
const pidFileOf = (dataDir: string) => Number(readFileSync(join(dataDir, "redis.pid"), "utf8"));

/** Kills the given processes by pid, waits for every redis-server on the dir to go, and removes the dir. */
async function cleanUp(dataDir: string, children: (ChildProcess | undefined)[]): Promise<void> {
  for (const c of children) if (c && c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  try {
    await waitFor(() => redisServersIn(dataDir).length === 0, "the data dir's redis-servers to exit");
  } finally {
    for (const pid of redisServersIn(dataDir)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe.skipIf(!hasRedisServer() || !existsSync("/proc/self/cwd"))("the embedded redis-server of npm start", () => {
  it("exits by itself when the server is SIGKILLed, and the next server on the data dir serves the events published before", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sg-embedded-"));
    const first = startServer(dataDir);
    let second: ServerProcess | undefined;
    try {
      const port = redisPort(await first.next(STARTED));
      const client = createClient({ address: String((await first.next(LISTENING)).address) });
      for (const i of [1, 2, 3]) await client.publish(event(i));
      client.close();
      const redisPid = pidFileOf(dataDir);
      expect(redisServersIn(dataDir)).toEqual([redisPid]);

      first.child.kill("SIGKILL");
      await first.exited;
      await waitFor(async () => !alive(redisPid) && !(await portOpen(port)), "the orphaned redis-server to exit", 10_000);

      second = startServer(dataDir);
      const again = createClient({ address: String((await second.next(LISTENING)).address) });
      const got = await take(again.eventStream({ fromBeginning: true }), 3);
      again.close();
      expect(got.map((e) => e.details.i)).toEqual(["1", "2", "3"]);
      expect(redisServersIn(dataDir)).toEqual([pidFileOf(dataDir)]);
    } finally {
      await cleanUp(dataDir, [first.child, second?.child]);
    }
  });

  it("stops a redis-server left on the data dir without its watchdog before starting its own", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sg-embedded-"));
    const orphanPort = await freePort();
    // What a SIGKILL of both the server and its watchdog would leave: a redis-server on the dir that no Streamgate owns.
    const orphan = spawn(
      "redis-server",
      [
        "--port",
        String(orphanPort),
        "--bind",
        "127.0.0.1",
        "--dir",
        dataDir,
        "--pidfile",
        join(dataDir, "redis.pid"),
        "--appendonly",
        "yes",
        "--save",
        "",
      ],
      { stdio: "ignore" },
    );
    const orphanExited = new Promise((res) => orphan.once("exit", res));
    let server: ServerProcess | undefined;
    try {
      await waitFor(() => portOpen(orphanPort), "the orphan to answer");
      server = startServer(dataDir);
      const stopped = await server.next("stopped an orphaned redis-server");
      expect(stopped.pid).toBe(orphan.pid);
      await orphanExited;

      const port = redisPort(await server.next(STARTED));
      const client = createClient({ address: String((await server.next(LISTENING)).address) });
      await client.publish(event(1));
      client.close();
      const [only] = redisServersIn(dataDir);
      expect(redisServersIn(dataDir)).toEqual([pidFileOf(dataDir)]);
      expect(only).not.toBe(orphan.pid);
      expect(port).not.toBe(orphanPort);
      expect(await portOpen(orphanPort)).toBe(false);
    } finally {
      await cleanUp(dataDir, [orphan, server?.child]);
    }
  });

  it("refuses a second server on the same data dir with one line naming the first one's pid, and the first keeps serving", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sg-embedded-"));
    const first = startServer(dataDir);
    let second: ServerProcess | undefined;
    try {
      const address = String((await first.next(LISTENING)).address);
      const redisPid = pidFileOf(dataDir);

      second = startServer(dataDir);
      expect(await second.exited).not.toBe(0);
      const message = second.stderr().trimEnd().split("\n");
      expect(message).toHaveLength(1);
      expect(message[0]).toContain(`another Streamgate (pid ${first.child.pid}) is using ${dataDir}`);
      expect(message[0]).toMatch(/STREAMGATE_DATA_DIR/);
      expect(second.lines.some((l) => l.msg === STARTED)).toBe(false);

      const client = createClient({ address });
      const cursor = await client.publish(event(1));
      client.close();
      expect(cursor).not.toBe("");
      expect(redisServersIn(dataDir)).toEqual([redisPid]);
      expect(readFileSync(join(dataDir, "streamgate.lock"), "utf8").trim()).toBe(String(first.child.pid));
    } finally {
      await cleanUp(dataDir, [first.child, second?.child]);
    }
  });

  it("reports invalid configuration (auth, tiers file) with exit code 2 before starting anything", async () => {
    const root = mkdtempSync(join(tmpdir(), "sg-embedded-"));
    const badTiers = join(root, "tiers.json");
    writeFileSync(badTiers, '{"free": {"maxBufferSize": 0}}');
    try {
      const mistakes: Record<string, string>[] = [
        { STREAMGATE_AUTH: "jwt", STREAMGATE_JWT_SECRET: "", STREAMGATE_JWKS_FILE: "" }, // jwt without a key
        { STREAMGATE_TIERS_FILE: badTiers },
      ];
      for (const env of mistakes) {
        const dataDir = join(root, "data"); // not created: nothing may have started
        const server = startServer(dataDir, env);
        try {
          expect(await server.exited).toBe(2);
          expect(server.stderr()).toMatch(/^streamgate: invalid configuration: \S.*\n$/);
          expect(existsSync(dataDir)).toBe(false);
          expect(server.lines.some((l) => l.msg === STARTED)).toBe(false);
        } finally {
          if (existsSync(dataDir)) await cleanUp(dataDir, [server.child]);
        }
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("logs an error when redis-server dies while the server runs", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sg-embedded-"));
    const server = startServer(dataDir);
    try {
      await server.next(LISTENING);
      process.kill(pidFileOf(dataDir), "SIGKILL");
      const died = await server.next("embedded redis-server exited unexpectedly");
      expect(died.level).toBe(50);
      expect(died.signal).toBe("SIGKILL");
    } finally {
      await cleanUp(dataDir, [server.child]);
    }
  });
});
