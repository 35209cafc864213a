import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createClient } from "../client-sdk/src/index.js";
import { event, take } from "./helpers.js";

function logLines(child: ChildProcess): { lines: Record<string, unknown>[]; next(msg: string): Promise<Record<string, unknown>> } {
  const lines: Record<string, unknown>[] = [];
  const waiters: [string, (l: Record<string, unknown>) => void][] = [];
  let buf = "";
  child.stdout?.on("data", (d: Buffer) => {
    buf += d.toString();
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      const line = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
      buf = buf.slice(nl + 1);
      lines.push(line);
      for (const w of waiters.filter(([m]) => line.msg === m)) w[1](line);
      nl = buf.indexOf("\n");
    }
  });
  return {
    lines,
    next: (msg) =>
      new Promise((res) => {
        const found = lines.find((l) => l.msg === msg);
        if (found) res(found);
        else waiters.push([msg, res]);
      }),
  };
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

describe("npm start (server/main.ts)", () => {
  it("with no REDIS_URL runs on an embedded redis-server with AOF data under the data dir, and stops it on SIGTERM", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sg-main-"));
    const env = {
      ...process.env,
      STREAMGATE_LISTEN: "127.0.0.1:0",
      STREAMGATE_METRICS_LISTEN: "off",
      STREAMGATE_DATA_DIR: dataDir,
      REDIS_URL: "",
    };
    const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], { env, stdio: ["ignore", "pipe", "inherit"] });
    try {
      const log = logLines(child);
      const started = await log.next("started embedded redis-server (set REDIS_URL to use your own)");
      const listening = await log.next("streamgate listening");
      const redisPort = Number(String(started.redis).split(":").pop());
      expect(redisPort).not.toBe(6379);
      const client = createClient({ address: String(listening.address) });
      const cursor = await client.publish(event(1));
      const [got] = await take(client.eventStream({ fromBeginning: true }), 1);
      expect(got?.cursor).toBe(cursor);
      client.close();
      expect(existsSync(join(dataDir, "appendonlydir"))).toBe(true);

      const exited = new Promise<number | null>((res) => child.once("exit", res));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(await portOpen(redisPort)).toBe(false);
      expect(log.lines.some((l) => l.msg === "streamgate stopped")).toBe(true);
    } finally {
      child.kill("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
