import type { Redis } from "ioredis";
import type { TenantKeys } from "./layout.js";
import { compareIds, MIN_ID } from "./streamIds.js";

/** Where a tenant's stream begins and ends, and how far it has been trimmed. */
export interface StreamState {
  exists: boolean;
  /** Highest ID ever generated (survives trimming); "0-0" for a missing stream. */
  lastGeneratedId: string;
  /** First retained entry, if any. */
  firstEntryId: string | null;
  /** Highest ID known removed (retention trim or XDEL); a cursor below it has a gap. */
  lowWater: string;
}

function field(reply: unknown[], name: string): unknown {
  for (let i = 0; i < reply.length; i += 2) if (reply[i] === name) return reply[i + 1];
  return undefined;
}

/** Reads the stream's bounds atomically (MULTI: XINFO STREAM + GET trimmed marker). */
export async function readStreamState(redis: Redis, keys: TenantKeys): Promise<StreamState> {
  const [[, exists], [infoErr, info], [, trimmed]] = (await redis
    .multi()
    .exists(keys.events)
    .call("XINFO", "STREAM", keys.events)
    .get(keys.trimmed)
    .exec()) as [[null, number], [Error | null, unknown[]], [null, string | null]];
  if (!exists || infoErr) {
    return { exists: false, lastGeneratedId: MIN_ID, firstEntryId: null, lowWater: trimmed ?? MIN_ID };
  }
  const maxDeleted = String(field(info, "max-deleted-entry-id") ?? MIN_ID);
  const marker = trimmed ?? MIN_ID;
  const first = field(info, "first-entry") as [string, unknown] | null | undefined;
  return {
    exists: true,
    lastGeneratedId: String(field(info, "last-generated-id")),
    firstEntryId: first ? first[0] : null,
    lowWater: compareIds(maxDeleted, marker) > 0 ? maxDeleted : marker,
  };
}
