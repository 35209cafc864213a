import type { Tier } from "../tenancy/tiers.js";

const HOUR_MS = 3_600_000;

/**
 * The oldest stream ID a tier may still see at `nowMs`, or undefined when its
 * history is unlimited. Tiers with 0 retention hours keep no history, so their
 * window starts now.
 */
export function windowStart(tier: Tier, nowMs: number): string | undefined {
  if (tier.maxRetentionHours < 0) return undefined;
  return `${Math.max(0, Math.floor(nowMs - tier.maxRetentionHours * HOUR_MS))}-0`;
}

/**
 * The trim.lua arguments that enforce a tier: at most `maxBufferSize` entries,
 * none older than the retention window. Tiers with 0 retention hours are
 * trimmed by count only: their stream is the live delivery buffer, and cutting
 * it by time would drop events before the shared reader has fanned them out.
 */
export function trimArgs(tier: Tier, nowMs: number): { maxlen: number; minid: string } {
  const minid = tier.maxRetentionHours > 0 ? (windowStart(tier, nowMs) as string) : "0-0";
  return { maxlen: tier.maxBufferSize, minid };
}
