// The tier table in force: Kumiho's defaults, changed by an optional JSON
// tiers file (STREAMGATE_TIERS_FILE). A tier named in the file that already
// exists keeps the fields the file does not set; a new tier must set them all.
import { readFileSync } from "node:fs";
import { ConfigError } from "../config/loadConfig.js";
import { defaultTiers, type Tier, type TierTable } from "./tiers.js";

const TIER_NAME = /^[a-z0-9_-]{1,64}$/;

type Field = Exclude<keyof Tier, "name">;

const fieldChecks: Record<Field, { check: (v: unknown) => boolean; rule: string }> = {
  supportsCursor: { check: (v) => typeof v === "boolean", rule: "true or false" },
  supportsReplay: { check: (v) => typeof v === "boolean", rule: "true or false" },
  supportsConsumerGroups: { check: (v) => typeof v === "boolean", rule: "true or false" },
  maxRetentionHours: {
    check: (v) => typeof v === "number" && Number.isFinite(v) && (v === -1 || (v >= 0 && v <= 1_000_000)),
    rule: "-1 (unlimited) or a number of hours from 0 to 1000000 (fractions allowed)",
  },
  maxBufferSize: { check: (v) => Number.isSafeInteger(v) && (v === -1 || (v as number) >= 1), rule: "-1 (unlimited) or an integer >= 1" },
  maxConcurrentStreams: {
    check: (v) => Number.isSafeInteger(v) && (v as number) >= -1,
    rule: "-1 (unlimited) or an integer >= 0",
  },
  publishRatePerSecond: {
    check: (v) => typeof v === "number" && Number.isFinite(v) && (v === -1 || v > 0),
    rule: "-1 (unlimited) or a number > 0",
  },
  publishBurst: { check: (v) => Number.isSafeInteger(v) && (v === -1 || (v as number) >= 1), rule: "-1 (unlimited) or an integer >= 1" },
};
const FIELDS = Object.keys(fieldChecks) as Field[];

function validateTier(name: string, raw: unknown, base: Tier | undefined, where: string): Tier {
  if (!TIER_NAME.test(name)) throw new ConfigError(`${where}: tier name "${name}" must match [a-z0-9_-]{1,64}`);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${where}: tier "${name}" must be a JSON object`);
  }
  const given = raw as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(FIELDS as string[]).includes(key)) {
      throw new ConfigError(`${where}: tier "${name}" has unknown field "${key}" (known: ${FIELDS.join(", ")})`);
    }
  }
  if (!base) {
    const missing = FIELDS.filter((f) => given[f] === undefined);
    if (missing.length > 0) throw new ConfigError(`${where}: new tier "${name}" must set ${missing.join(", ")}`);
  }
  const tier = { ...base, name } as Tier;
  for (const field of FIELDS) {
    const value = given[field];
    if (value === undefined) continue;
    if (!fieldChecks[field].check(value)) {
      throw new ConfigError(`${where}: tier "${name}" ${field} must be ${fieldChecks[field].rule}, got ${JSON.stringify(value)}`);
    }
    (tier as unknown as Record<string, unknown>)[field] = value;
  }
  if ((tier.supportsCursor || tier.supportsReplay) && tier.maxRetentionHours === 0) {
    throw new ConfigError(`${where}: tier "${name}" supports cursors or replay, which need maxRetentionHours other than 0`);
  }
  if (tier.supportsConsumerGroups && !tier.supportsCursor) {
    // A group's deliveries, acks and dead letters are all identified by cursor.
    throw new ConfigError(`${where}: tier "${name}" supports consumer groups, which need supportsCursor`);
  }
  if ((tier.publishRatePerSecond === -1) !== (tier.publishBurst === -1)) {
    throw new ConfigError(`${where}: tier "${name}" publishRatePerSecond and publishBurst must both be -1 (unlimited) or both be limits`);
  }
  return tier;
}

/** Validates a tiers document (already parsed) against the defaults. */
export function parseTiers(doc: unknown, where = "tiers file"): TierTable {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new ConfigError(`${where} must hold a JSON object of tier name -> fields`);
  }
  const table: Record<string, Tier> = { ...defaultTiers };
  for (const [name, raw] of Object.entries(doc)) table[name] = validateTier(name, raw, defaultTiers[name], where);
  return table;
}

/**
 * The tier table: {@link defaultTiers}, or the defaults changed by the JSON
 * file at `path`. Throws {@link ConfigError} naming the first problem.
 */
export function loadTiers(path: string | undefined): TierTable {
  if (!path) return defaultTiers;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`STREAMGATE_TIERS_FILE: cannot read ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`STREAMGATE_TIERS_FILE: ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseTiers(doc, `STREAMGATE_TIERS_FILE ${path}`);
}
