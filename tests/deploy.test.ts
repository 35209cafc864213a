// The Docker image and compose stack cannot be built here (no Docker engine),
// so their contract with the code is checked statically: ports, env names,
// user, commands and paths. scripts/verify-docker-build.sh runs the steps.
import { existsSync, readFileSync, statSync } from "node:fs";
import { posix } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { checkAuthConfig } from "../server/auth/createAuth.js";
import { splitHostPort } from "../server/config/hostPort.js";
import { loadConfig } from "../server/config/loadConfig.js";
import { type OptionSpec, options } from "../server/config/options.js";
import { loadTiers } from "../server/tenancy/loadTiers.js";

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name: string | undefined;
  steps: Instruction[];
}

/** Splits a Dockerfile into stages of instructions (comments dropped, continuation lines joined). */
function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#") || (line === "" && current === "")) continue;
    if (line.endsWith("\\")) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push((current + line).trim());
    current = "";
  }
  const stages: Stage[] = [];
  for (const line of logical.filter(Boolean)) {
    const m = /^(\S+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`cannot parse Dockerfile line: ${line}`);
    const op = (m[1] as string).toUpperCase();
    const args = m[2] as string;
    if (op === "FROM") {
      const [from, as, name] = args.split(/\s+/);
      stages.push({ from: from as string, name: as?.toUpperCase() === "AS" ? name : undefined, steps: [] });
    } else stages.at(-1)?.steps.push({ op, args });
  }
  return stages;
}

/** The argv of an exec-form (JSON array) or shell-form command. */
function argv(args: string): string[] {
  return args.trim().startsWith("[") ? (JSON.parse(args) as string[]) : args.trim().split(/\s+/);
}

/** `ENV A=1 B=2` pairs. */
function envPairs(args: string): [string, string][] {
  return args
    .trim()
    .split(/\s+/)
    .map((kv) => {
      const i = kv.indexOf("=");
      return [kv.slice(0, i), kv.slice(i + 1)] as [string, string];
    });
}

/** The patterns of .dockerignore (comments and blanks dropped). */
function dockerignore(): string[] {
  return readFileSync(".dockerignore", "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
}

/** A .dockerignore pattern as a regular expression over context-relative paths (`*`, `?`, `**`, as Docker reads them). */
function patternRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/^\/+|\/+$/g, "")
    .split(/(\*\*\/|\*\*|\*|\?)/)
    .map((part) => {
      if (part === "**/") return "(?:.*/)?";
      if (part === "**") return ".*";
      if (part === "*") return "[^/]*";
      if (part === "?") return "[^/]";
      return part.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    })
    .join("");
  return new RegExp(`^${body}$`);
}

/** Whether `path` (relative to the context) is excluded: a pattern matching it or one of its parent directories. */
function ignored(path: string, patterns: string[]): boolean {
  const parts = path.replace(/^\.\//, "").replace(/\/$/, "").split("/");
  const regexps = patterns.map(patternRegExp);
  return parts.some((_, i) => {
    const prefix = parts.slice(0, i + 1).join("/");
    return regexps.some((r) => r.test(prefix));
  });
}

/**
 * The environment a container sees: the image's ENV overlaid by a compose service's
 * `environment`, with compose's `${VAR}`, `${VAR:-default}` and `${VAR-default}`
 * interpolated from `shell` (the operator's shell or .env).
 */
function containerEnv(imageEnv: Record<string, string>, serviceEnv: Record<string, string>, shell: Record<string, string> = {}) {
  const interpolate = (value: string) =>
    value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)-([^}]*))?\}/g, (_, name: string, colon: string, fallback?: string) => {
      const set = shell[name];
      if (fallback === undefined) return set ?? "";
      return set === undefined || (colon === ":" && set === "") ? fallback : set;
    });
  return { ...imageEnv, ...Object.fromEntries(Object.entries(serviceEnv).map(([k, v]) => [k, interpolate(String(v))])) };
}

/** What the server does at start before anything listens: validated config, then the auth mode's own checks. */
function startUpChecks(env: Record<string, string | undefined>): void {
  const config = loadConfig(env);
  checkAuthConfig(config, loadTiers(config.tiersFile));
}

/**
 * The last day a Node major is supported, by Node's release schedule: an even major N
 * comes out in April of 2013 + N/2 and reaches its end of life on April 30 three years
 * later (22: 2027-04-30, 24: 2028-04-30).
 */
function nodeEndOfLife(major: number): Date {
  return new Date(Date.UTC(2013 + major / 2 + 3, 3, 30));
}

const optionEnvs = new Set((Object.values(options) as OptionSpec[]).map((o) => o.env));
const port = (listen: string) => splitHostPort(listen)[1];
const grpcPort = port(options.listen.default);
const metricsPort = port(options.metricsListen.default);
const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> };

/** dist/server/x.js is built from server/x.ts. */
function sourceOf(builtPath: string): string {
  return builtPath.replace(/^dist\//, "").replace(/\.js$/, ".ts");
}

const stages = parseDockerfile(readFileSync("Dockerfile", "utf8"));
const runtime = stages.at(-1) as Stage;
const steps = (stage: Stage | undefined, op: string) => stage?.steps.filter((s) => s.op === op) ?? [];
/** The runtime stage's ENV: what every container of the image starts with. */
const imageEnv = (): Record<string, string> => Object.fromEntries(steps(runtime, "ENV").flatMap((e) => envPairs(e.args)));

describe("Dockerfile", () => {
  const build = stages.find((s) => s.name === "build");
  const last = (stage: Stage, op: string) => steps(stage, op).at(-1)?.args ?? "";

  it("builds and runs on one supported Node LTS: an even major, 24 or newer, not past its end of life", () => {
    const majors = stages.map((stage) => Number(/^node:(\d+)-slim$/.exec(stage.from)?.[1]));
    expect(majors.length).toBeGreaterThanOrEqual(2);
    const [major] = majors as [number];
    for (const m of majors) expect(m, "every stage on the same node:<major>-slim").toBe(major);
    expect(major % 2, "odd Node majors are never LTS").toBe(0);
    // Node 22 reaches its end of life on 2027-04-30: the image moved to 24 (LTS until 2028-04-30).
    expect(major).toBeGreaterThanOrEqual(24);
    expect(nodeEndOfLife(22).toISOString().slice(0, 10)).toBe("2027-04-30");
    expect(nodeEndOfLife(major).getTime(), `node:${major} is past its end of life; move the Dockerfile to a current LTS`).toBeGreaterThan(
      Date.now(),
    );
    // The README's deployment notes name the image the Dockerfile really uses.
    const readme = readFileSync("README.md", "utf8");
    expect([...new Set(readme.match(/node:\d+-slim/g))]).toEqual([`node:${major}-slim`]);
  });

  it("builds with dev dependencies in one stage and runs a slim image in another", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build?.from).toMatch(/^node:\d+-slim$/);
    expect(runtime.from).toMatch(/^node:\d+-slim$/);
    expect(runtime).not.toBe(build);
    const runs = steps(build, "RUN").map((s) => s.args);
    expect(runs).toEqual(["npm ci --no-audit --no-fund", "npm run build", "npm prune --omit=dev"]);
    expect(pkg.scripts.build).toBeDefined();
    // The runtime stage takes only built output, the CLI launcher and pruned dependencies from the build stage.
    const fromBuild = steps(runtime, "COPY").filter((c) => c.args.startsWith("--from=build"));
    expect(fromBuild.flatMap((c) => c.args.split(/\s+/).slice(1, -1)).sort()).toEqual(
      ["/app/bin", "/app/dist", "/app/node_modules", "/app/package-lock.json", "/app/package.json"].sort(),
    );
  });

  it("copies only sources that exist and that .dockerignore keeps in the build context", () => {
    const patterns = dockerignore();
    const sources = steps(build, "COPY")
      .filter((c) => !c.args.startsWith("--from"))
      .flatMap((c) => c.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources) {
      expect(existsSync(src), src).toBe(true);
      expect(ignored(src, patterns), src).toBe(false);
    }
    // Everything the build compiles is copied in: tsconfig.build.json's inputs and the config it extends.
    const tsconfig = JSON.parse(readFileSync("tsconfig.build.json", "utf8")) as { extends: string; include: string[] };
    for (const needed of [...tsconfig.include, tsconfig.extends.replace(/^\.\//, ""), "tsconfig.build.json"]) {
      expect(
        sources.some((s) => needed === s || needed.startsWith(`${s}/`)),
        needed,
      ).toBe(true);
    }
  });

  it("runs as a non-root user under an init, with the start script's command", () => {
    const user = last(runtime, "USER");
    expect(user).not.toBe("");
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(argv(last(runtime, "ENTRYPOINT"))).toEqual(["/usr/bin/tini", "--"]);
    expect(steps(runtime, "RUN").some((r) => /apt-get install .*\btini\b/.test(r.args))).toBe(true);
    const cmd = argv(last(runtime, "CMD"));
    expect(cmd.join(" ")).toBe(pkg.scripts.start);
    expect(existsSync(sourceOf(cmd[1] as string))).toBe(true);
  });

  it("listens on all interfaces on the default ports it exposes, and sets only real options", () => {
    const env = imageEnv();
    for (const name of Object.keys(env)) if (name !== "NODE_ENV") expect(optionEnvs.has(name), name).toBe(true);
    expect(env.STREAMGATE_LISTEN).toBe(`0.0.0.0:${grpcPort}`);
    expect(env.STREAMGATE_METRICS_LISTEN).toBe(`0.0.0.0:${metricsPort}`);
    expect(() => loadConfig(env)).not.toThrow();
    const exposed = steps(runtime, "EXPOSE").flatMap((e) => e.args.split(/\s+/).map(Number));
    expect(exposed.sort()).toEqual([grpcPort, metricsPort].sort());
  });

  it("starts with its own defaults: its ENV passes the server's start-up checks (auth mode included)", () => {
    const env = imageEnv();
    // Only REDIS_URL must come from outside (the image has no redis-server); nothing else is needed to start.
    expect(() => startUpChecks({ ...env, REDIS_URL: "redis://redis:6379" })).not.toThrow();
    expect(env.STREAMGATE_AUTH).toBe("keys");
    expect(env.STREAMGATE_ALLOW_INSECURE_NONE_AUTH).toBeUndefined();
    // The check has teeth: the same ENV with the default auth mode (none) refuses the wildcard address.
    const { STREAMGATE_AUTH: _, ...withoutAuth } = env;
    expect(() => startUpChecks(withoutAuth)).toThrow(/STREAMGATE_AUTH=none/);
  });

  it("health-checks through the gRPC health probe that the build produces", () => {
    const healthcheck = last(runtime, "HEALTHCHECK");
    const m = /^(.*?)\s*CMD\s+(.*)$/.exec(healthcheck);
    expect(m?.[1]).toMatch(/--interval=\d+s/);
    const probe = argv(m?.[2] ?? "");
    expect(probe).toEqual(["node", "dist/server/observability/healthProbe.js"]);
    expect(existsSync(sourceOf(probe[1] as string))).toBe(true);
  });

  it("uses only instructions that scripts/verify-docker-build.sh can replay without Docker", () => {
    expect(statSync("scripts/verify-docker-build.sh").mode & 0o111).not.toBe(0);
    const replayable = ["WORKDIR", "ARG", "ENV", "LABEL", "COPY", "RUN"];
    for (const step of build?.steps ?? []) expect(replayable, step.op).toContain(step.op);
    const runtimeOps = ["WORKDIR", "ARG", "ENV", "LABEL", "COPY", "RUN", "USER", "EXPOSE", "HEALTHCHECK", "ENTRYPOINT", "CMD"];
    for (const step of runtime.steps) expect(runtimeOps, step.op).toContain(step.op);
    expect(steps(runtime, "WORKDIR").map((s) => s.args)).toEqual(["/app"]);
    expect(steps(build, "WORKDIR").map((s) => s.args)).toEqual(["/app"]);
  });
});

describe(".dockerignore", () => {
  it("keeps dependencies, build output, local data, git, tests, benchmarks and profiles out of the build context", () => {
    const patterns = dockerignore();
    for (const path of [
      "node_modules",
      "dist",
      ".data",
      ".git",
      "client-sdk/dist",
      "client-sdk/node_modules",
      "tests",
      "tests/deploy.test.ts",
      "bench/results",
      "coverage",
      "run.cpuprofile",
      "bench/results/x.cpuprofile",
      ".env",
    ]) {
      expect(ignored(path, patterns), path).toBe(true);
    }
    for (const path of ["server/app.ts", "client-sdk/src/index.ts", "bin/streamgate.js", "package.json", "tsconfig.build.json"]) {
      expect(ignored(path, patterns), path).toBe(false);
    }
  });

  it("keeps everything the build compiles: tsconfig.build.json's and the SDK tsconfig's inputs", () => {
    const patterns = dockerignore();
    // A tsconfig's own path, its include entries and the file it extends, relative to the context root.
    const inputs = (file: string) => {
      const json = JSON.parse(readFileSync(file, "utf8").replace(/^\s*\/\/.*$/gm, "")) as { extends?: string; include: string[] };
      const resolve = (p: string) => posix.join(posix.dirname(file), p);
      return [file, ...json.include.map(resolve), ...(json.extends ? [resolve(json.extends)] : [])];
    };
    for (const path of [...inputs("tsconfig.build.json"), ...inputs("client-sdk/tsconfig.json")]) {
      expect(existsSync(path), path).toBe(true);
      expect(ignored(path, patterns), path).toBe(false);
    }
  });
});

describe("docker-compose.yml", () => {
  const compose = parse(readFileSync("docker-compose.yml", "utf8"), { merge: true }) as {
    services: Record<string, Record<string, unknown>>;
    volumes: Record<string, unknown>;
  };
  const { redis, streamgate } = compose.services as Record<string, Record<string, unknown>>;
  const replicas = Object.entries(compose.services).filter(([name]) => name.startsWith("streamgate"));
  const hostPorts = (svc: Record<string, unknown>) =>
    (svc.ports as string[]).map((p) => {
      const parts = p.split(":");
      return { host: Number(parts.at(-2)), container: Number(parts.at(-1)) };
    });

  it("runs Redis 7 with AOF on a named volume at its data directory, with a healthcheck", () => {
    expect(redis?.image).toMatch(/^redis:7/);
    const command = redis?.command as string[];
    expect(command[command.indexOf("--appendonly") + 1]).toBe("yes");
    expect(redis?.volumes).toContain("redis-data:/data");
    expect(Object.keys(compose.volumes)).toContain("redis-data");
    expect((redis?.healthcheck as { test: string[] }).test).toEqual(["CMD", "redis-cli", "ping"]);
  });

  it("configures every replica with real options only, valid values and the image's health probe", () => {
    expect(replicas.length).toBeGreaterThanOrEqual(2);
    for (const [name, svc] of replicas) {
      const env = svc.environment as Record<string, string>;
      for (const key of Object.keys(env)) expect(optionEnvs.has(key), `${name}: ${key}`).toBe(true);
      expect(() => loadConfig(env), name).not.toThrow();
      expect(env.REDIS_URL).toBe("redis://redis:6379");
      expect((svc.depends_on as Record<string, { condition: string }>).redis?.condition).toBe("service_healthy");
      expect((svc.healthcheck as { test: string[] }).test).toEqual(["CMD", "node", "dist/server/observability/healthProbe.js"]);
      const stopGraceSeconds = Number(String(svc.stop_grace_period).replace(/s$/, ""));
      const config = loadConfig(env);
      expect(stopGraceSeconds * 1000).toBeGreaterThan(config.drainDelayMs + config.shutdownGraceMs);
      // Published ports lead to the ports the server really listens on.
      const containerPorts = hostPorts(svc).map((p) => p.container);
      expect(containerPorts.sort()).toEqual([port(env.STREAMGATE_LISTEN as string), port(env.STREAMGATE_METRICS_LISTEN as string)].sort());
    }
    const published = replicas.flatMap(([, svc]) => hostPorts(svc).map((p) => p.host));
    expect(new Set(published).size).toBe(published.length);
    // The metrics listener has no auth: only the host's loopback may reach it.
    for (const [, svc] of replicas) {
      const metrics = (svc.ports as string[]).filter((p) => p.endsWith(`:${metricsPort}`));
      for (const p of metrics) expect(p.startsWith("127.0.0.1:")).toBe(true);
    }
  });

  it("every replica passes the server's start-up checks with the image's ENV and its own environment", () => {
    for (const [name, svc] of replicas) {
      const environment = svc.environment as Record<string, string>;
      // As shipped (STREAMGATE_ADMIN_KEY unset in the shell: the Admin service stays closed) and with an admin key set.
      const shells: Record<string, string>[] = [{}, { STREAMGATE_ADMIN_KEY: "an-admin-key-of-24-chars" }];
      for (const shell of shells) {
        const env = containerEnv(imageEnv(), environment, shell);
        expect(() => startUpChecks(env), `${name} with ${JSON.stringify(shell)}`).not.toThrow();
        expect(loadConfig(env).adminKey).toBe(shell.STREAMGATE_ADMIN_KEY);
      }
      // A too-short admin key from the shell stops the server: the check runs on what compose really passes.
      expect(() => startUpChecks(containerEnv(imageEnv(), environment, { STREAMGATE_ADMIN_KEY: "short" }))).toThrow(/STREAMGATE_ADMIN_KEY/);
    }
  });

  it("starts the second replica only with the scale profile", () => {
    expect(streamgate?.profiles).toBeUndefined();
    const extra = replicas.filter(([name]) => name !== "streamgate");
    for (const [, svc] of extra) expect(svc.profiles).toEqual(["scale"]);
  });

  it("sets STREAMGATE_AUTH exactly when the server has that option, and says where it goes otherwise", () => {
    const text = readFileSync("docker-compose.yml", "utf8");
    const env = streamgate?.environment as Record<string, string>;
    if (optionEnvs.has("STREAMGATE_AUTH")) expect(env.STREAMGATE_AUTH).toBeDefined();
    else {
      expect(env.STREAMGATE_AUTH).toBeUndefined();
      expect(text).toMatch(/#.*STREAMGATE_AUTH/);
    }
  });
});
