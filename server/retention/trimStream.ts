import type { SgRedis } from "../redis/commands.js";
import type { TenantKeys } from "../redis/layout.js";
import type { Tier } from "../tenancy/tiers.js";
import { trimArgs } from "./retentionWindow.js";

/**
 * Trims a tenant's stream to its tier's buffer size and retention window,
 * exactly, recording the highest removed ID (redis/scripts/trim.lua).
 * Resolves with the number of entries removed.
 */
export function trimStream(redis: SgRedis, keys: TenantKeys, tier: Tier, nowMs = Date.now()): Promise<number> {
  const { maxlen, minid } = trimArgs(tier, nowMs);
  if (maxlen < 0 && minid === "0-0") return Promise.resolve(0);
  return redis.sgTrim(keys.events, keys.trimmed, maxlen, minid, 0);
}
