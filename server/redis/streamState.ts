import { newEpoch } from "../cursors/epoch.js";
import type { SgRedis } from "./commands.js";
import { incarnationKeys, type TenantKeys } from "./layout.js";
import { compareIds } from "./streamIds.js";

/** Where a tenant's stream begins and ends, how far it has been trimmed, and its epoch. */
export interface StreamState {
  /** The stream's epoch (cursors/epoch.ts). */
  epoch: string;
  /** True when this read created the stream (it did not exist): a new epoch. */
  created: boolean;
  /** Highest ID ever generated (survives trimming); "0-0" for a new stream. */
  lastGeneratedId: string;
  /** First retained entry, if any. */
  firstEntryId: string | null;
  /** Highest ID known removed (retention trim or XDEL); a cursor below it has a gap. */
  lowWater: string;
  /** Whether the entry `probeId` exists (false when none was given). */
  probeExists: boolean;
}

/**
 * Reads the stream's bounds and epoch atomically (redis/scripts/streamState.lua), creating the
 * stream, empty and with a new epoch, when it does not exist. With `probeId`, also whether that
 * entry is still there.
 */
export async function readStreamState(redis: SgRedis, keys: TenantKeys, probeId = ""): Promise<StreamState> {
  const [epoch, lastGeneratedId, first, maxDeleted, trimmed, probeExists, created] = await redis.sgStreamState(
    ...incarnationKeys(keys),
    newEpoch(),
    probeId,
  );
  const marker = trimmed || "0-0";
  return {
    epoch,
    created: created === 1,
    lastGeneratedId,
    firstEntryId: first || null,
    lowWater: compareIds(maxDeleted, marker) > 0 ? maxDeleted : marker,
    probeExists: probeExists === 1,
  };
}
