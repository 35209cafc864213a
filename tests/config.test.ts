import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../server/config/loadConfig.js";
import { type OptionSpec, options } from "../server/config/options.js";
import { redactRedisUrl } from "../server/config/redisUrl.js";
import { redisUrl } from "./helpers.js";

/** Runs `npm start`'s entry point (from source) with `env` on top of this process's; resolves once it exits. */
function runServer(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((res) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "server/main.ts"],
      // If validation ever let it through, it would still stay off shared ports and the machine's Redis.
      {
        env: { ...process.env, STREAMGATE_LISTEN: "127.0.0.1:0", STREAMGATE_METRICS_LISTEN: "off", ...env },
        encoding: "utf8",
        timeout: 30_000,
      },
      (err, _stdout, stderr) => res({ code: err && typeof err.code === "number" ? err.code : err ? null : 0, stderr }),
    );
  });
}

/** A TCP listener on a free loopback port (so that port is taken), and a port nothing listens on. */
async function ports(): Promise<{ taken: Server; takenPort: number; closedPort: number }> {
  const listen = () =>
    new Promise<Server>((res) => {
      const server = createServer();
      server.listen(0, "127.0.0.1", () => res(server));
    });
  const portOf = (server: Server) => (server.address() as { port: number }).port;
  const taken = await listen();
  const probe = await listen();
  const closedPort = portOf(probe);
  await new Promise((res) => probe.close(res));
  return { taken, takenPort: portOf(taken), closedPort };
}

interface Row {
  env: string;
  key: string;
  default: string;
}

/** The rows of the README's configuration table (the one headed "Variable | File key | Default | Description"). */
function readmeRows(): Row[] {
  const lines = readFileSync("README.md", "utf8").split("\n");
  const start = lines.findIndex((l) => /^\|\s*Variable\s*\|\s*File key\s*\|\s*Default\s*\|\s*Description\s*\|/.test(l));
  if (start < 0) throw new Error("README.md has no configuration table");
  const rows: Row[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    const [env, key, def] = line
      .split("|")
      .slice(1, 4)
      .map((c) => c.trim());
    rows.push({ env: (env ?? "").replace(/`/g, ""), key: (key ?? "").replace(/`/g, ""), default: def ?? "" });
  }
  return rows;
}

const specs = Object.entries(options) as [string, OptionSpec][];

describe("configuration", () => {
  it("the README table lists exactly the options in options.ts, with their file keys and defaults", () => {
    const rows = readmeRows();
    expect(rows.map((r) => r.env).sort()).toEqual(specs.map(([, s]) => s.env).sort());
    for (const [key, spec] of specs) {
      const row = rows.find((r) => r.env === spec.env);
      expect(row?.key, spec.env).toBe(key);
      expect(row?.default, spec.env).toBe(spec.default === undefined ? "(unset)" : `\`${String(spec.default)}\``);
    }
  });

  it("rejects invalid values naming the option, and accepts off for the metrics listener", () => {
    const bad: Record<string, string> = {
      STREAMGATE_METRICS_LISTEN: "nowhere",
      STREAMGATE_REFLECTION: "maybe",
      STREAMGATE_HEALTH_TIMEOUT_MS: "10",
      STREAMGATE_METRICS_MAX_TENANTS: "many",
    };
    for (const [env, value] of Object.entries(bad)) {
      expect(() => loadConfig({ [env]: value }), env).toThrow(ConfigError);
      expect(() => loadConfig({ [env]: value }), env).toThrow(env);
    }
    expect(loadConfig({ STREAMGATE_METRICS_LISTEN: "off", STREAMGATE_REFLECTION: "true" })).toMatchObject({
      metricsListen: "off",
      reflection: true,
    });
    expect(loadConfig({}).metricsListen).toBe("127.0.0.1:9464");
  });

  it("refuses a batch byte cap smaller than the event cap, naming both options", () => {
    const env = { STREAMGATE_MAX_BATCH_BYTES: "65536", STREAMGATE_MAX_EVENT_BYTES: "100000" };
    expect(() => loadConfig(env)).toThrow(/STREAMGATE_MAX_BATCH_BYTES \(65536\) must be at least STREAMGATE_MAX_EVENT_BYTES \(100000\)/);
    expect(loadConfig({ ...env, STREAMGATE_MAX_BATCH_BYTES: "100000" }).maxBatchBytes).toBe(100000);
  });

  it("accepts the REDIS_URL forms ioredis connects with and refuses others naming REDIS_URL, without echoing a password", () => {
    for (const good of [
      "redis://redis:6379",
      "redis://127.0.0.1",
      "redis://app:s3cret@redis.internal:6380/2",
      "rediss://:s3cret@redis.example.com:6380",
      "unix:///var/run/redis/redis.sock",
      "/var/run/redis/redis.sock",
    ]) {
      expect(loadConfig({ REDIS_URL: good }).redisUrl, good).toBe(good);
    }
    const bad: Record<string, RegExp> = {
      notaurl: /it is not a URL/,
      "http://x:80": /scheme must be redis:\/\/, rediss:\/\/ or unix:\/\/, got http:\/\//,
      "redis:///0": /names no host/,
      "redis://redis:6379/cache": /database number/,
      "redis://redis:99999": /not a URL/,
      "unix://host/sock": /no host/,
      "http://app:topsecret@x:80": /got "http:\/\/app:\*\*\*@x:80"/,
    };
    for (const [value, why] of Object.entries(bad)) {
      let message = "";
      try {
        loadConfig({ REDIS_URL: value });
      } catch (err) {
        expect(err, value).toBeInstanceOf(ConfigError);
        message = (err as Error).message;
      }
      expect(message, value).toMatch(/^REDIS_URL \(environment\) must be redis:\/\/host/);
      expect(message, value).toMatch(why);
      expect(message, value).not.toContain("topsecret");
    }
    expect(redactRedisUrl("redis://app:s3cret@redis:6379/0")).toBe("redis://app:***@redis:6379/0");
    expect(redactRedisUrl("redis://:s3cret@redis:6379")).toBe("redis://:***@redis:6379");
    expect(redactRedisUrl("redis://s3cret@redis:6379")).toBe("redis://***@redis:6379");
    expect(redactRedisUrl("app:s3cret@redis:6379")).toBe("app:***@redis:6379");
    expect(redactRedisUrl("redis://redis:6379?name=a@b")).toBe("redis://redis:6379?name=a@b");
  });

  it("the server refuses a malformed REDIS_URL before connecting (exit 2), and names REDIS_URL when Redis does not answer (exit 1)", async () => {
    const { taken, closedPort } = await ports();
    try {
      const [notUrl, http, unreachable] = await Promise.all([
        runServer({ REDIS_URL: "notaurl" }),
        runServer({ REDIS_URL: "http://x:80" }),
        runServer({ REDIS_URL: `redis://app:topsecret@127.0.0.1:${closedPort}` }),
      ]);
      for (const run of [notUrl, http]) {
        expect(run.stderr).toMatch(/^streamgate: invalid configuration: REDIS_URL \(environment\) must be redis:\/\/host/);
        expect(run.stderr).not.toContain("Connection is closed");
        expect(run.code).toBe(2);
      }
      // One line naming the option and the address (password hidden) and saying why.
      expect(unreachable.stderr.trim().split("\n")).toEqual([
        `streamgate: failed to start: cannot connect to Redis at redis://app:***@127.0.0.1:${closedPort} (REDIS_URL): connect ECONNREFUSED 127.0.0.1:${closedPort}`,
      ]);
      expect(unreachable.code).toBe(1);
    } finally {
      taken.close();
    }
  });

  it("the server names STREAMGATE_LISTEN or STREAMGATE_METRICS_LISTEN when its address is taken (exit 1)", async () => {
    const { taken, takenPort } = await ports();
    try {
      const [grpc, metrics] = await Promise.all([
        runServer({ REDIS_URL: redisUrl(), STREAMGATE_LISTEN: `127.0.0.1:${takenPort}` }),
        runServer({ REDIS_URL: redisUrl(), STREAMGATE_METRICS_LISTEN: `127.0.0.1:${takenPort}` }),
      ]);
      // (grpc-js also prints its own "E No address added ..." line before it.)
      expect(grpc.stderr.trim().split("\n").at(-1)).toBe(
        `streamgate: failed to start: cannot listen on 127.0.0.1:${takenPort} (STREAMGATE_LISTEN): listen EADDRINUSE: address already in use 127.0.0.1:${takenPort}`,
      );
      expect(grpc.code).toBe(1);
      expect(metrics.stderr.trim().split("\n")).toEqual([
        `streamgate: failed to start: cannot listen on 127.0.0.1:${takenPort} (STREAMGATE_METRICS_LISTEN): listen EADDRINUSE: address already in use 127.0.0.1:${takenPort}`,
      ]);
      expect(metrics.code).toBe(1);
    } finally {
      taken.close();
    }
  });

  it("the server (server/main.ts) refuses to start on an invalid value: exit status 2 and a message naming the option", async () => {
    const run = await new Promise<{ code: number | null; stderr: string }>((res) => {
      execFile(
        process.execPath,
        ["--import", "tsx", "server/main.ts"],
        {
          // If validation ever let it through, it would still stay off shared ports and the machine's Redis.
          env: { ...process.env, STREAMGATE_METRICS_LISTEN: "nowhere", STREAMGATE_LISTEN: "127.0.0.1:0", REDIS_URL: redisUrl() },
          encoding: "utf8",
          timeout: 30_000,
        },
        (err, _stdout, stderr) => res({ code: err && typeof err.code === "number" ? err.code : err ? null : 0, stderr }),
      );
    });
    expect(run.stderr).toContain("invalid configuration: STREAMGATE_METRICS_LISTEN");
    expect(run.stderr).toContain('"nowhere"');
    expect(run.code).toBe(2);
  });
});
