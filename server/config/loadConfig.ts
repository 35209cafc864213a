import { readFileSync } from "node:fs";
import { type OptionName, type OptionSpec, options } from "./options.js";
import { redactRedisUrl, redisUrlProblem } from "./redisUrl.js";

type ValueOf<S extends OptionSpec> = S["type"] extends "int"
  ? number
  : S["type"] extends "bool"
    ? boolean
    : S["default"] extends undefined
      ? string | undefined
      : string;

/** The validated configuration: one field per entry of {@link options}. */
export type Config = { -readonly [K in OptionName]: ValueOf<(typeof options)[K]> };

/** A configuration problem, reported before anything starts. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

function parseValue(name: string, spec: OptionSpec, raw: unknown, source: string): unknown {
  const where = `${name} (${source})`;
  switch (spec.type) {
    case "int": {
      const n = typeof raw === "number" ? raw : typeof raw === "string" && /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
      if (!Number.isSafeInteger(n)) throw new ConfigError(`${where} must be an integer, got ${JSON.stringify(raw)}`);
      if (spec.min !== undefined && n < spec.min) throw new ConfigError(`${where} must be at least ${spec.min}, got ${n}`);
      if (spec.max !== undefined && n > spec.max) throw new ConfigError(`${where} must be at most ${spec.max}, got ${n}`);
      return n;
    }
    case "bool": {
      if (typeof raw === "boolean") return raw;
      if (raw === "true" || raw === "1") return true;
      if (raw === "false" || raw === "0") return false;
      throw new ConfigError(`${where} must be true or false, got ${JSON.stringify(raw)}`);
    }
    case "enum": {
      if (typeof raw === "string" && spec.values?.includes(raw)) return raw;
      throw new ConfigError(`${where} must be one of ${spec.values?.join(", ")}, got ${JSON.stringify(raw)}`);
    }
    case "hostPortOrOff":
    case "hostPort": {
      if (spec.type === "hostPortOrOff" && raw === "off") return raw;
      const m = typeof raw === "string" ? HOST_PORT.exec(raw) : null;
      if (!m || Number(m[2]) > 65_535)
        throw new ConfigError(
          `${where} must be host:port (e.g. 127.0.0.1:50051)${spec.type === "hostPortOrOff" ? ' or "off"' : ""}, got ${JSON.stringify(raw)}`,
        );
      return raw;
    }
    case "redisUrl": {
      if (typeof raw !== "string" || raw.length === 0) throw new ConfigError(`${where} must be a non-empty string`);
      const problem = redisUrlProblem(raw);
      if (problem)
        throw new ConfigError(
          `${where} must be redis://host[:port][/db], rediss://host[:port][/db] or a unix socket (unix:///path/redis.sock or /path/redis.sock): ${problem}, got ${JSON.stringify(redactRedisUrl(raw))}`,
        );
      return raw;
    }
    case "string": {
      if (typeof raw !== "string" || raw.length === 0) throw new ConfigError(`${where} must be a non-empty string`);
      return raw;
    }
  }
}

function readFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`STREAMGATE_CONFIG: cannot read ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`STREAMGATE_CONFIG: ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`STREAMGATE_CONFIG: ${path} must hold a JSON object`);
  }
  const known = new Set(Object.keys(options));
  for (const key of Object.keys(parsed)) {
    if (!known.has(key)) throw new ConfigError(`STREAMGATE_CONFIG: unknown option "${key}" in ${path}`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Builds the configuration from defaults, then the JSON file named by
 * STREAMGATE_CONFIG (if any), then environment variables, then `overrides`.
 * Throws {@link ConfigError} naming the first invalid option.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const file = env.STREAMGATE_CONFIG ? readFile(env.STREAMGATE_CONFIG) : {};
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(options) as [OptionName, OptionSpec][]) {
    let value: unknown = spec.default;
    if (file[name] !== undefined) value = parseValue(name, spec, file[name], "config file");
    const fromEnv = env[spec.env];
    if (fromEnv !== undefined && fromEnv !== "") value = parseValue(spec.env, spec, fromEnv, "environment");
    if (overrides[name] !== undefined) value = parseValue(name, spec, overrides[name], "override");
    out[name] = value;
  }
  const config = out as Config;
  checkTogether(config);
  return config;
}

/** Options that only make sense together. */
function checkTogether(c: Config): void {
  // Otherwise a single event of the allowed size could never be published in a batch.
  if (c.maxBatchBytes < c.maxEventBytes) {
    throw new ConfigError(
      `STREAMGATE_MAX_BATCH_BYTES (${c.maxBatchBytes}) must be at least STREAMGATE_MAX_EVENT_BYTES (${c.maxEventBytes}), or a batch could not carry one event of the allowed size`,
    );
  }
}
