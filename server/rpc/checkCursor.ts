import { status } from "@grpc/grpc-js";
import type { Redis } from "ioredis";
import { StreamgateError } from "../errors.js";
import type { TenantKeys } from "../redis/layout.js";
import { compareIds } from "../redis/streamIds.js";
import { readStreamState } from "../redis/streamState.js";

/** Trailer naming the earliest cursor a client can still resume from. */
export const EARLIEST_CURSOR_TRAILER = "streamgate-earliest-cursor";

async function firstIdFrom(redis: Redis, keys: TenantKeys, from: string): Promise<string | null> {
  const [first] = (await redis.xrange(keys.events, from, "+", "COUNT", 1)) as [string, string[]][];
  return first ? first[0] : null;
}

/**
 * A cursor is resumable when nothing after it has been trimmed, nothing after
 * it has fallen out of the tier's retention window (events older than
 * `windowStart`, trimmed or not yet), and it is not beyond the stream's end
 * (which means Redis lost or reset data): each case fails loudly with
 * OUT_OF_RANGE instead of silently skipping or stalling.
 */
export async function checkCursor(redis: Redis, keys: TenantKeys, cursor: string, windowStart?: string): Promise<void> {
  const state = await readStreamState(redis, keys);
  if (compareIds(cursor, state.lastGeneratedId) > 0) {
    throw new StreamgateError(
      status.OUT_OF_RANGE,
      `cursor ${cursor} is beyond the last event of this stream (${state.lastGeneratedId}); the server's data may have been reset. ` +
        "Resubscribe with from_beginning or without a cursor.",
    );
  }
  let gap = compareIds(state.lowWater, cursor) > 0;
  if (!gap && windowStart !== undefined && compareIds(cursor, windowStart) < 0) {
    // Events between the cursor and the window's start are outside the window even if not yet trimmed.
    const between = await redis.xrange(keys.events, `(${cursor}`, `(${windowStart}`, "COUNT", 1);
    gap = between.length > 0;
  }
  if (!gap) return;
  const earliest = await firstIdFrom(redis, keys, windowStart ?? "-");
  throw new StreamgateError(
    status.OUT_OF_RANGE,
    `cursor ${cursor} is older than the retained window; the earliest available cursor is ${earliest ?? "none (no event is retained)"}. ` +
      "Use from_beginning to replay everything retained.",
    { [EARLIEST_CURSOR_TRAILER]: earliest ?? "" },
  );
}
