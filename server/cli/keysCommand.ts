// `streamgate keys ...`: API key management straight against the Redis the
// servers use (REDIS_URL, STREAMGATE_KEY_PREFIX, STREAMGATE_TIERS_FILE), so it
// works with no server running. Servers see changes at once (pub/sub).
import { type ParseArgsConfig, parseArgs } from "node:util";
import { status } from "@grpc/grpc-js";
import { Redis } from "ioredis";
import type { ApiKeyInfo } from "../auth/keyStore.js";
import { KeyStore } from "../auth/keyStore.js";
import { ConfigError, loadConfig } from "../config/loadConfig.js";
import { StreamgateError } from "../errors.js";
import { withCommands } from "../redis/commands.js";
import { loadTiers } from "../tenancy/loadTiers.js";

const HELP = `Usage: streamgate keys <command> [options]

Manage API keys (STREAMGATE_AUTH=keys) in the Redis at REDIS_URL.

Commands:
  create --tenant T --tier X [--name N] [--json]
      Create a key for tenant T and print its token (shown only this once).
      The tenant's tier becomes X; for an existing tenant on another tier
      this changes the tier of all its keys.
  list [--tenant T] [--json]
      List keys (never their tokens), oldest first.
  revoke ID [--json]
      Delete key ID. New calls with it fail at once; its open streams end
      within seconds with UNAUTHENTICATED.
  set-tier ID TIER [--json]
      Move the tenant of key ID to TIER (all its keys), from the next call on.

Options:
  --json   print one JSON document instead of text
  --help   show this help

Environment: REDIS_URL (required), STREAMGATE_KEY_PREFIX (default "sg"),
STREAMGATE_TIERS_FILE (tiers beyond the defaults) - the same as the server's.

Exit codes: 0 done, 1 failed (e.g. Redis unreachable, no such key), 2 usage error.
`;

class UsageError extends Error {}

type Out = (text: string) => void;

function parse(argv: string[], options: NonNullable<ParseArgsConfig["options"]>, positionals: number) {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, json: { type: "boolean" }, help: { type: "boolean" } },
      allowPositionals: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!parsed.values.help && parsed.positionals.length !== positionals) {
    throw new UsageError(`expected ${positionals} argument${positionals === 1 ? "" : "s"}, got ${parsed.positionals.length}`);
  }
  return parsed;
}

function required(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== "string" || v === "") throw new UsageError(`--${name} is required`);
  return v;
}

function table(keys: ApiKeyInfo[]): string {
  if (keys.length === 0) return "no keys\n";
  const rows = [["ID", "TENANT", "TIER", "CREATED", "NAME"], ...keys.map((k) => [k.id, k.tenant, k.tier, k.createdAt, k.name])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  return `${rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] as number))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")}\n`;
}

async function run(store: KeyStore, sub: string, argv: string[], out: Out, err: Out): Promise<void> {
  switch (sub) {
    case "create": {
      const { values } = parse(argv, { tenant: { type: "string" }, tier: { type: "string" }, name: { type: "string" } }, 0);
      const created = await store.create({
        tenant: required(values, "tenant"),
        tier: required(values, "tier"),
        name: typeof values.name === "string" ? values.name : undefined,
      });
      if (created.previousTier)
        err(`note: tenant ${created.tenant} moved from tier ${created.previousTier} to ${created.tier} (all its keys)\n`);
      if (values.json) out(`${JSON.stringify(created)}\n`);
      else {
        out(`Created API key ${created.id} for tenant ${created.tenant} (tier ${created.tier}).\n`);
        out(`Token (shown only now; store it safely):\n${created.token}\n`);
      }
      return;
    }
    case "list": {
      const { values } = parse(argv, { tenant: { type: "string" } }, 0);
      const keys = await store.list(typeof values.tenant === "string" ? values.tenant : undefined);
      out(values.json ? `${JSON.stringify(keys)}\n` : table(keys));
      return;
    }
    case "revoke": {
      const { values, positionals } = parse(argv, {}, 1);
      const key = await store.revoke(positionals[0] as string);
      out(values.json ? `${JSON.stringify(key)}\n` : `Revoked API key ${key.id} of tenant ${key.tenant}.\n`);
      return;
    }
    case "set-tier": {
      const { values, positionals } = parse(argv, {}, 2);
      const res = await store.setTier({ keyId: positionals[0] as string }, positionals[1] as string);
      out(
        values.json
          ? `${JSON.stringify(res)}\n`
          : `Tenant ${res.tenant} is now on tier ${res.tier} (was ${res.previousTier || "unset"}).\n`,
      );
      return;
    }
    default:
      throw new UsageError(`unknown keys command "${sub}"`);
  }
}

/**
 * Runs `streamgate keys <argv...>` and resolves with the process exit code.
 * Writes results to stdout and problems to stderr (never a stack trace).
 */
export async function runKeysCommand(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  out: Out = (t) => process.stdout.write(t),
  err: Out = (t) => process.stderr.write(t),
): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help" || rest.includes("--help")) {
    out(HELP);
    return sub === undefined ? 2 : 0;
  }
  let redis: Redis | undefined;
  try {
    const config = loadConfig(env);
    if (!config.redisUrl) throw new UsageError("REDIS_URL is not set: point it at the Redis your Streamgate servers use");
    const tiers = loadTiers(config.tiersFile);
    redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5000, retryStrategy: () => null });
    redis.on("error", () => {}); // reported through the failing command
    await redis.connect();
    await run(new KeyStore(withCommands(redis), config.keyPrefix, tiers), sub, rest, out, err);
    return 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      err(`streamgate keys: ${e.message}\nRun "streamgate keys --help" for usage.\n`);
      return 2;
    }
    if (e instanceof StreamgateError) {
      err(`streamgate keys: ${e.message}\n`);
      return e.code === status.INVALID_ARGUMENT ? 2 : 1;
    }
    err(`streamgate keys: ${(e as Error).message}\n`);
    return 1;
  } finally {
    redis?.disconnect();
  }
}
