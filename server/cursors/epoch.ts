// A stream's epoch: a short random token stored beside the stream
// (redis/layout.ts, `epoch`) and carried in every cursor (cursor.ts). It is
// replaced exactly when the stream's history changes under its readers:
// - the stream is created (the first append, or the first reader, finds no
//   stream: a new tenant, or Redis lost the data), by the scripts that create it
//   (streamState.lua, appendEvents.lua);
// - a server sees the stream rolled back: the last event its shared reader
//   delivered is gone without having been trimmed (Redis restored from an older
//   copy), with a compare-and-set (bumpEpoch.lua), so that replicas noticing it
//   together agree on one new epoch.
import { randomBytes } from "node:crypto";
import type { SgRedis } from "../redis/commands.js";
import type { TenantKeys } from "../redis/layout.js";

/** A new epoch token: 8 hex digits (a repeat within one tenant is a 1 in 4 billion chance). */
export function newEpoch(): string {
  return randomBytes(4).toString("hex");
}

/**
 * Replaces the stream's epoch `seen` with a new one, unless another server did
 * first; resolves with the epoch now in force.
 */
export async function bumpEpoch(redis: SgRedis, keys: TenantKeys, seen: string): Promise<string> {
  return redis.sgBumpEpoch(keys.epoch, seen, newEpoch());
}
