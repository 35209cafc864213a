// `streamgate serve` run as a user would: a spawned CLI process serving over the
// test Redis, driven by other spawned CLI commands (health, publish, tail).
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { freePort } from "../../server/redis/localRedis.js";
import { redisUrl, waitFor } from "../helpers.js";
import { type CliResult, runCli, startCli } from "./runCli.js";

/** Resolves with the result, or with `undefined` if the process has not exited within `ms`. */
const within = (done: Promise<CliResult>, ms: number) =>
  Promise.race([done, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);

describe("streamgate serve", () => {
  it("serves until SIGTERM: health, publish and tail work against it; it exits 0 and health then exits 3", async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const server = startCli(["serve"], {
      REDIS_URL: redisUrl(),
      STREAMGATE_LISTEN: address,
      STREAMGATE_METRICS_LISTEN: "off", // never the default 9464
      STREAMGATE_KEY_PREFIX: `test-serve-${randomUUID()}`,
      STREAMGATE_SHUTDOWN_GRACE_MS: "1000",
    });
    try {
      let exited: CliResult | undefined;
      void server.done.then((r) => {
        exited = r;
      });
      await waitFor(
        async () => {
          if (exited) throw new Error(`serve exited early with ${exited.code}: ${exited.stderr}`);
          return (await runCli(["health", "-a", address, "-q", "-t", "1000"])).code === 0;
        },
        "streamgate serve to report SERVING",
        30_000,
      );
      expect(server.stdout).toContain('"msg":"streamgate listening"');

      const health = await runCli(["health", "-a", address]);
      expect(health.code).toBe(0);
      expect(health.stdout).toMatch(new RegExp(`^SERVING ${address} `));

      const kref = `kref://film/shots/sh${randomUUID().slice(0, 8)}.model?r=1`;
      const published = await runCli(["publish", "-a", address, "-r", "serve.check", "-k", kref, "-d", "via=cli"]);
      expect(published.code).toBe(0);
      const cursor = published.stdout.trim();
      expect(cursor).toMatch(/^\S+$/);
      expect(cursor.length).toBeGreaterThan(0);

      const tail = await runCli(["tail", "-a", address, "--from-beginning", "-n", "1", "--json"]);
      expect(tail.code).toBe(0);
      const lines = tail.stdout.trimEnd().split("\n");
      expect(lines).toHaveLength(1);
      const got = JSON.parse(lines[0] ?? "") as Record<string, unknown>;
      expect(got).toMatchObject({ cursor, routingKey: "serve.check", kref, details: { via: "cli" } });

      const startedStop = Date.now();
      server.child.kill("SIGTERM");
      const result = await within(server.done, 5000);
      expect(result, "serve should exit within 5 s of SIGTERM").toBeDefined();
      expect(result?.code).toBe(0);
      expect(Date.now() - startedStop).toBeLessThan(5000);
      expect(server.stdout).toContain('"msg":"shutting down"');

      const after = await runCli(["health", "-a", address, "-t", "1000"]);
      expect(after.code).toBe(3);
      expect(after.stdout).toMatch(new RegExp(`^NOT SERVING ${address}`));
    } finally {
      server.child.kill("SIGKILL");
      await within(server.done, 5000);
    }
  });

  it("with an invalid configuration value exits 2 with one stderr line naming the option", async () => {
    const r = await runCli(["serve"], {
      REDIS_URL: redisUrl(),
      STREAMGATE_LISTEN: "nowhere",
      STREAMGATE_METRICS_LISTEN: "off",
      STREAMGATE_KEY_PREFIX: `test-serve-${randomUUID()}`,
    });
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      'streamgate: invalid configuration: STREAMGATE_LISTEN (environment) must be host:port (e.g. 127.0.0.1:50051), got "nowhere"',
    );
    expect(r.stdout).toBe("");
  });
});
