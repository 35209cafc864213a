// The Docker image and compose stack cannot be built here (no Docker engine),
// so their contract with the code is checked statically: ports, env names,
// user, commands and paths. scripts/verify-docker-build.sh runs the steps.
import { existsSync, readFileSync, statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { splitHostPort } from "../server/config/hostPort.js";
import { loadConfig } from "../server/config/loadConfig.js";
import { type OptionSpec, options } from "../server/config/options.js";

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

/** Whether `path` (relative to the context) is excluded: a pattern equal to it or to one of its parent directories. */
function ignored(path: string, patterns: string[]): boolean {
  const parts = path.replace(/^\.\//, "").replace(/\/$/, "").split("/");
  return parts.some((_, i) => {
    const prefix = parts.slice(0, i + 1).join("/");
    return patterns.some((p) => p === prefix || p === `**/${parts[i]}`);
  });
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

describe("Dockerfile", () => {
  const stages = parseDockerfile(readFileSync("Dockerfile", "utf8"));
  const build = stages.find((s) => s.name === "build");
  const runtime = stages.at(-1) as Stage;
  const steps = (stage: Stage | undefined, op: string) => stage?.steps.filter((s) => s.op === op) ?? [];
  const last = (stage: Stage, op: string) => steps(stage, op).at(-1)?.args ?? "";

  it("builds with dev dependencies in one stage and runs a current Node LTS slim image in another", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build?.from).toMatch(/^node:(22|24)-slim$/);
    expect(runtime.from).toMatch(/^node:(22|24)-slim$/);
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
    const env = Object.fromEntries(steps(runtime, "ENV").flatMap((e) => envPairs(e.args)));
    for (const name of Object.keys(env)) if (name !== "NODE_ENV") expect(optionEnvs.has(name), name).toBe(true);
    expect(env.STREAMGATE_LISTEN).toBe(`0.0.0.0:${grpcPort}`);
    expect(env.STREAMGATE_METRICS_LISTEN).toBe(`0.0.0.0:${metricsPort}`);
    expect(() => loadConfig(env)).not.toThrow();
    const exposed = steps(runtime, "EXPOSE").flatMap((e) => e.args.split(/\s+/).map(Number));
    expect(exposed.sort()).toEqual([grpcPort, metricsPort].sort());
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
  it("keeps dependencies, build output, local data and git out of the build context", () => {
    const patterns = dockerignore();
    for (const path of ["node_modules", "dist", ".data", ".git", "client-sdk/dist", "client-sdk/node_modules"]) {
      expect(ignored(path, patterns), path).toBe(true);
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
      expect(stopGraceSeconds * 1000).toBeGreaterThan(loadConfig(env).shutdownGraceMs);
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
