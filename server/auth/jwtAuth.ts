import { status } from "@grpc/grpc-js";
import { ConfigError } from "../config/loadConfig.js";
import { StreamgateError } from "../errors.js";
import { bearerToken, type Caller, type ResolveCaller } from "../tenancy/caller.js";
import { tenantIdProblem } from "../tenancy/tenantId.js";
import type { TenantRegistry } from "../tenancy/tenantRegistry.js";
import { type TierTable, tierByName } from "../tenancy/tiers.js";
import { JwtError, type JwtKeys, loadJwks, verifyJwt } from "./jwt.js";

/** Clock skew tolerated on exp and nbf. */
const LEEWAY_SECONDS = 30;

export interface JwtAuthOptions {
  jwtSecret: string | undefined;
  jwksFile: string | undefined;
  tenantClaim: string;
  tierClaim: string;
  issuer: string | undefined;
  audience: string | undefined;
  tiers: TierTable;
  registry: TenantRegistry;
}

/** The keys tokens are checked with, from the configuration; ConfigError when there are none. */
export function jwtKeys(secret: string | undefined, jwksFile: string | undefined): JwtKeys {
  if (!secret && !jwksFile)
    throw new ConfigError("STREAMGATE_AUTH=jwt needs STREAMGATE_JWT_SECRET (HS256) or STREAMGATE_JWKS_FILE (RS256/ES256)");
  if (secret !== undefined && secret.length < 32) throw new ConfigError("STREAMGATE_JWT_SECRET must be at least 32 characters");
  return { hs256Secret: secret ? Buffer.from(secret, "utf8") : undefined, publicKeys: jwksFile ? loadJwks(jwksFile) : [] };
}

function unauthenticated(message: string): StreamgateError {
  return new StreamgateError(status.UNAUTHENTICATED, message);
}

/** STREAMGATE_AUTH=jwt: the tenant and tier come from claims of a verified token. */
export function jwtResolver(opts: JwtAuthOptions): ResolveCaller {
  const keys = jwtKeys(opts.jwtSecret, opts.jwksFile);
  return async (metadata) => {
    const token = bearerToken(metadata);
    let claims: Record<string, unknown>;
    try {
      claims = verifyJwt(token, keys, { nowMs: Date.now(), leewaySeconds: LEEWAY_SECONDS, issuer: opts.issuer, audience: opts.audience });
    } catch (err) {
      if (err instanceof JwtError) throw unauthenticated(err.message);
      throw err;
    }
    const tenant = claims[opts.tenantClaim];
    if (typeof tenant !== "string") throw unauthenticated(`token has no "${opts.tenantClaim}" claim (string tenant id)`);
    const problem = tenantIdProblem(tenant);
    if (problem) throw unauthenticated(`token "${opts.tenantClaim}" claim: ${problem}`);
    const tierName = claims[opts.tierClaim];
    if (typeof tierName !== "string") throw unauthenticated(`token has no "${opts.tierClaim}" claim (string tier name)`);
    const tier = tierByName(opts.tiers, tierName);
    if (!tier) throw unauthenticated(`token "${opts.tierClaim}" claim "${tierName.slice(0, 64)}" is not a tier of this server`);
    await opts.registry.note(tenant, tier.name);
    const caller: Caller = { tenantId: tenant, tier };
    if (typeof claims.exp === "number") caller.expiresAt = claims.exp * 1000;
    return caller;
  };
}
