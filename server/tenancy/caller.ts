import type { Metadata } from "@grpc/grpc-js";
import { defaultTiers, type Tier } from "./tiers.js";

/** Who is calling: the tenant whose stream they use and the tier that bounds them. */
export interface Caller {
  tenantId: string;
  tier: Tier;
}

export type ResolveCaller = (metadata: Metadata) => Caller;

/** Single-tenant mode: every caller is the configured tenant with the enterprise tier. */
export function singleTenant(tenantId: string): ResolveCaller {
  const caller: Caller = { tenantId, tier: defaultTiers.enterprise as Tier };
  return () => caller;
}
