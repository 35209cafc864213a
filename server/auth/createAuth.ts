// Picks the authentication of STREAMGATE_AUTH and checks its configuration
// before the server listens.
import type { Redis } from "ioredis";
import type { Config } from "../config/loadConfig.js";
import { ConfigError } from "../config/loadConfig.js";
import type { Logger } from "../observability/logger.js";
import { checkingTenantHeader, type ResolveCaller, singleTenant } from "../tenancy/caller.js";
import type { TenantTiers } from "../tenancy/recheckTiers.js";
import { tenantIdProblem } from "../tenancy/tenantId.js";
import { TenantRegistry } from "../tenancy/tenantRegistry.js";
import { type TierTable, tierByName } from "../tenancy/tiers.js";
import { jwtKeys, jwtResolver } from "./jwtAuth.js";
import { KeyAuth } from "./keyAuth.js";
import type { AuthChange, KeyStore } from "./keyStore.js";

/** The running authentication of a server. */
export interface Auth {
  resolveCaller: ResolveCaller;
  /** Applies a key change this process made (key mode), without waiting for pub/sub. */
  apply(change: AuthChange): void;
  close(): Promise<void>;
}

export interface AuthOptions {
  config: Config;
  redis: Redis;
  log: Logger;
  tiers: TierTable;
  store: KeyStore;
  /** Ends the open streams of a revoked key. */
  onRevoked: (keyId: string) => void;
  /** Ids of the keys that have open streams now. */
  openKeyIds: () => Iterable<string>;
  /** Re-checks the open streams of these tenants against their current tiers (key mode); returns how many it ended. */
  onTiers: (tiers: TenantTiers) => number;
  /** Tenants with streams opened by an API key now. */
  openTenants: () => Iterable<string>;
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Configuration problems of the chosen auth mode, found before anything starts. Throws {@link ConfigError}. */
export function checkAuthConfig(config: Config, tiers: TierTable): void {
  if (config.adminKey !== undefined && config.adminKey.length < 16)
    throw new ConfigError("STREAMGATE_ADMIN_KEY must be at least 16 characters");
  if (config.auth === "none") {
    const host = config.listen.slice(0, config.listen.lastIndexOf(":"));
    if (!isLoopback(host) && !config.allowInsecureNoneAuth) {
      throw new ConfigError(
        `STREAMGATE_AUTH=none would let anyone who can reach ${config.listen} read and publish every event; ` +
          "set STREAMGATE_AUTH=keys or jwt, listen on a loopback address, or set STREAMGATE_ALLOW_INSECURE_NONE_AUTH=true to accept that",
      );
    }
    const problem = tenantIdProblem(config.tenant);
    if (problem) throw new ConfigError(`STREAMGATE_TENANT: ${problem}`);
    if (!tierByName(tiers, config.tier))
      throw new ConfigError(`STREAMGATE_TIER: unknown tier "${config.tier}" (tiers: ${Object.keys(tiers).join(", ")})`);
  }
  if (config.auth === "jwt") jwtKeys(config.jwtSecret, config.jwksFile);
}

/** Starts the authentication STREAMGATE_AUTH names (call {@link checkAuthConfig} first). */
export async function createAuth(opts: AuthOptions): Promise<Auth> {
  const { config, redis, tiers } = opts;
  const registry = new TenantRegistry(redis, config.keyPrefix);
  if (config.auth === "keys") {
    const keyAuth = new KeyAuth({
      store: opts.store,
      redis,
      log: opts.log,
      cacheMs: config.keyCacheMs,
      recheckMs: config.keyRecheckMs,
      onRevoked: opts.onRevoked,
      openKeyIds: opts.openKeyIds,
      onTiers: opts.onTiers,
      openTenants: opts.openTenants,
    });
    await keyAuth.start();
    return { resolveCaller: checkingTenantHeader(keyAuth.resolveCaller), apply: (c) => keyAuth.apply(c), close: () => keyAuth.close() };
  }
  const resolveCaller =
    config.auth === "jwt"
      ? checkingTenantHeader(
          jwtResolver({
            jwtSecret: config.jwtSecret,
            jwksFile: config.jwksFile,
            tenantClaim: config.jwtTenantClaim,
            tierClaim: config.jwtTierClaim,
            issuer: config.jwtIssuer,
            audience: config.jwtAudience,
            tiers,
            registry,
          }),
        )
      : singleTenant(config.tenant, tierByName(tiers, config.tier));
  // The single tenant is registered up front so that the retention sweep trims its stream even before the first call.
  if (config.auth === "none") await registry.note(config.tenant, config.tier);
  return { resolveCaller, apply: () => {}, close: async () => {} };
}
