import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../client-sdk/src/index.js";
import { type Streamgate, startStreamgate } from "../server/app.js";
import { loadConfig } from "../server/config/loadConfig.js";
import { StreamgateError } from "../server/errors.js";
import { createLogger } from "../server/observability/logger.js";
import { type LocalRedis, startLocalRedis } from "../server/redis/localRedis.js";
import { event, startTestServer, take, waitFor } from "./helpers.js";
import { healthClient } from "./opsHelpers.js";

const KNOWN = ["", "kumiho.KumihoService", "streamgate.v1.Streamgate", "streamgate.v1.ConsumerGroups", "streamgate.v1.Admin"];

/** Runs the health probe script the Docker HEALTHCHECK runs (from source), in a child process. */
function runProbe(address: string): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "server/observability/healthProbe.ts", address],
      { encoding: "utf8", timeout: 30_000 },
      (err, stdout, stderr) => res({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, out: stdout + stderr }),
    );
  });
}

// This file stops and restarts Redis, so it runs against a Redis of its own, never the shared test Redis.
describe("grpc.health.v1", () => {
  let dir: string;
  let redis: LocalRedis;
  let app: Streamgate;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "streamgate-health-"));
    redis = await startLocalRedis({ dataDir: dir, appendOnly: false });
    const config = loadConfig({}, { listen: "127.0.0.1:0", metricsListen: "off", logLevel: "silent", healthIntervalMs: 200 });
    // Every caller is refused, as with auth on and no token: health must still answer.
    const refuseAll = () => {
      throw new StreamgateError(status.UNAUTHENTICATED, "missing token");
    };
    app = await startStreamgate({ config, log: createLogger("silent"), redisUrl: redis.url, resolveCaller: refuseAll });
  });

  afterAll(async () => {
    await app?.close(2000);
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers Check and List without credentials while API calls are refused", async () => {
    const health = healthClient(app.address);
    const api = createClient({ address: app.address });
    try {
      for (const service of KNOWN) expect(await health.check(service)).toBe("SERVING");
      expect(await health.list()).toEqual(Object.fromEntries(KNOWN.map((s) => [s, "SERVING"])));
      await expect(health.check("no.such.Service")).rejects.toMatchObject({ code: status.NOT_FOUND });
      await expect(api.publish(event(1))).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    } finally {
      health.close();
      api.close();
    }
  });

  it("the probe script exits 0 against a serving server and 1 when nothing answers", async () => {
    const ok = await runProbe(app.address);
    expect(ok.out).toContain("SERVING");
    expect(ok.code).toBe(0);
    const none = await runProbe("127.0.0.1:1");
    expect(none.code).toBe(1);
  });

  it("goes NOT_SERVING when Redis stops and SERVING again when it is back, streaming each change to Watch", async () => {
    const health = healthClient(app.address);
    const watch = health.watch("streamgate.v1.Streamgate");
    const unknown = health.watch("no.such.Service");
    try {
      expect(await watch.next()).toBe("SERVING");
      expect(await unknown.next()).toBe("SERVICE_UNKNOWN");

      await redis.stop();
      expect(await watch.next()).toBe("NOT_SERVING");
      expect(await health.check()).toBe("NOT_SERVING");
      expect(app.health.status).toBe("NOT_SERVING");
      const down = await runProbe(app.address);
      expect(down.out).toContain("NOT_SERVING");
      expect(down.code).toBe(1);

      redis = await startLocalRedis({ dataDir: dir, appendOnly: false, port: redis.port });
      expect(await watch.next()).toBe("SERVING");
      expect(await health.check("kumiho.KumihoService")).toBe("SERVING");
    } finally {
      watch.cancel();
      unknown.cancel();
      health.close();
    }
  });

  it("a Redis that stops answering (connected but stuck) is NOT_SERVING after the PING timeout", async () => {
    const health = healthClient(app.address);
    try {
      await waitFor(async () => (await health.check()) === "SERVING", "SERVING before the pause");
      redis.process.kill("SIGSTOP");
      try {
        await waitFor(async () => (await health.check()) === "NOT_SERVING", "NOT_SERVING while Redis is paused");
      } finally {
        redis.process.kill("SIGCONT");
      }
      await waitFor(async () => (await health.check()) === "SERVING", "SERVING after the pause");
    } finally {
      health.close();
    }
  });
});

describe("graceful shutdown and health", () => {
  it("reports NOT_SERVING to watchers first, then ends their calls so the server can stop", async () => {
    const dir = mkdtempSync(join(tmpdir(), "streamgate-health-"));
    const redis = await startLocalRedis({ dataDir: dir, appendOnly: false });
    const config = loadConfig({}, { listen: "127.0.0.1:0", metricsListen: "off", logLevel: "silent" });
    const app = await startStreamgate({ config, log: createLogger("silent"), redisUrl: redis.url });
    const health = healthClient(app.address);
    try {
      const watch = health.watch();
      expect(await watch.next()).toBe("SERVING");
      const closed = app.close(30_000);
      expect(await watch.next()).toBe("NOT_SERVING");
      expect(await watch.next()).toBeUndefined(); // the call ended with OK, not held open until the grace period
      await closed;
    } finally {
      health.close();
      await app.close();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("with STREAMGATE_DRAIN_DELAY_MS, reports NOT_SERVING first and keeps serving calls for that long, then refuses them", async () => {
    const t = await startTestServer({ drainDelayMs: 2000 });
    const health = healthClient(t.app.address);
    const sub = t.client.eventStream({ resume: false });
    try {
      const watch = health.watch();
      expect(await watch.next()).toBe("SERVING");
      await sub.ready;
      let closed = false;
      const closing = t.app.close(2000).then(() => {
        closed = true;
      });
      expect(await watch.next()).toBe("NOT_SERVING");
      expect(await health.check()).toBe("NOT_SERVING");
      // Still draining: new and open calls work, so nothing fails while balancers stop routing here.
      const cursor = await t.client.publish(event(1));
      expect((await take(t.client.eventStream({ fromBeginning: true, resume: false }), 1))[0]?.cursor).toBe(cursor);
      const iterator = sub[Symbol.asyncIterator]();
      expect((await iterator.next()).value?.cursor).toBe(cursor);
      expect(closed).toBe(false);
      // Then the usual shutdown: open streams end with UNAVAILABLE and their last cursor, new calls are refused.
      const ended = await sub.closed;
      expect(ended?.code).toBe(status.UNAVAILABLE);
      expect(ended?.trailers["streamgate-last-cursor"]).toBe(cursor);
      await closing;
      await expect(t.client.publish(event(2), { timeoutMs: 2000 })).rejects.toMatchObject({ code: status.UNAVAILABLE });
    } finally {
      health.close();
      await t.close();
    }
  });
});
