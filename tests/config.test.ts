import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../server/config/loadConfig.js";
import { type OptionSpec, options } from "../server/config/options.js";
import { redisUrl } from "./helpers.js";

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
