// Who is calling. Every RPC handler resolves its caller once, first thing, with
// `ctx.resolveCaller(call.metadata)`; a handler that must stay open to anyone
// (the health check) simply does not call it.
import { type Metadata, status } from "@grpc/grpc-js";
import { StreamgateError } from "../errors.js";
import { defaultTiers, type Tier } from "./tiers.js";

/** Who is calling: the tenant whose stream they use and the tier that bounds them. */
export interface Caller {
  tenantId: string;
  tier: Tier;
  /** The API key the call authenticated with (STREAMGATE_AUTH=keys): its streams end when it is revoked. */
  keyId?: string;
  /** When the credential stops being valid (a JWT's exp), in ms since the epoch: streams end then. */
  expiresAt?: number;
}

/**
 * Authenticates a call from its metadata (handlers always `await` it). Fails
 * with a StreamgateError: UNAUTHENTICATED for a missing or invalid credential,
 * PERMISSION_DENIED when `x-tenant-id` names another tenant than the credential's.
 */
export type ResolveCaller = (metadata: Metadata) => Caller | Promise<Caller>;

/** The metadata header Kumiho's SDKs may send with the tenant they think they are. */
export const TENANT_HEADER = "x-tenant-id";

function unauthenticated(message: string): StreamgateError {
  return new StreamgateError(status.UNAUTHENTICATED, message);
}

/** The token of `authorization: Bearer <token>`; UNAUTHENTICATED when there is none. */
export function bearerToken(metadata: Metadata): string {
  const values = metadata.get("authorization");
  if (values.length === 0) {
    throw unauthenticated('missing credentials: send metadata "authorization: Bearer <API key or token>"');
  }
  if (values.length > 1) throw unauthenticated("send exactly one authorization header");
  const value = String(values[0]).trim();
  const m = /^bearer\s+(\S+)$/i.exec(value);
  if (!m) throw unauthenticated('authorization must be "Bearer <API key or token>"');
  return m[1] as string;
}

/** PERMISSION_DENIED when the call's `x-tenant-id` is set and is not the caller's tenant. */
export function checkTenantHeader(metadata: Metadata, caller: Caller): void {
  const values = metadata.get(TENANT_HEADER);
  for (const v of values) {
    const claimed = String(v);
    if (claimed !== "" && claimed !== caller.tenantId) {
      throw new StreamgateError(
        status.PERMISSION_DENIED,
        `${TENANT_HEADER} "${claimed.slice(0, 64)}" does not match the tenant of these credentials (${caller.tenantId})`,
      );
    }
  }
}

/** Wraps a resolver with the `x-tenant-id` check every auth mode applies. */
export function checkingTenantHeader(resolve: ResolveCaller): ResolveCaller {
  return async (metadata) => {
    const caller = await resolve(metadata);
    checkTenantHeader(metadata, caller);
    return caller;
  };
}

/** STREAMGATE_AUTH=none: every caller is the configured tenant on the configured tier. */
export function singleTenant(tenantId: string, tier: Tier = defaultTiers.enterprise as Tier): ResolveCaller {
  const caller: Caller = { tenantId, tier };
  return checkingTenantHeader(async () => caller);
}
