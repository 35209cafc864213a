import { status } from "@grpc/grpc-js";
import { historyLost, StreamgateError } from "../errors.js";
import type { SgRedis } from "../redis/commands.js";
import type { TenantKeys } from "../redis/layout.js";
import { compareIds, MIN_ID } from "../redis/streamIds.js";
import { readStreamState, type StreamState } from "../redis/streamState.js";
import { type Cursor, formatCursor } from "./cursor.js";

/** Trailer naming the earliest cursor a client can still resume from. */
export const EARLIEST_CURSOR_TRAILER = "streamgate-earliest-cursor";

async function firstIdFrom(redis: SgRedis, keys: TenantKeys, from: string): Promise<string | null> {
  const [first] = (await redis.xrange(keys.events, from, "+", "COUNT", 1)) as [string, string[]][];
  return first ? first[0] : null;
}

/**
 * Where the entry `id` stands in the stream as `state` (read with `id` as its probe) shows it:
 * - "present": still there (or `id` is the start of the stream, "0-0");
 * - "removed": gone the way retention and trimming remove entries: at or below the trim marker or
 *   Redis's max-deleted ID, or before the first entry (another tool's XTRIM or XADD MAXLEN; Redis
 *   does not record those), or the stream is empty but has been written up to `id`;
 * - "diverged": gone in a way no trim explains, so the stream's history is not the one `id` came
 *   from (Redis lost data, or was restored from an older copy): beyond the stream's end, or missing
 *   from between entries that are still there.
 */
export function placeOf(id: string, state: StreamState): "present" | "removed" | "diverged" {
  if (id === MIN_ID || state.probeExists) return "present";
  if (compareIds(id, state.lastGeneratedId) > 0) return "diverged";
  if (compareIds(id, state.lowWater) <= 0) return "removed";
  if (state.firstEntryId === null || compareIds(id, state.firstEntryId) < 0) return "removed";
  return "diverged";
}

/**
 * A cursor is resumable when it belongs to the stream's current history, nothing after it has
 * been trimmed, and nothing after it has fallen out of the tier's retention window (events older
 * than `windowStart`, trimmed or not yet). Otherwise the resume fails loudly instead of silently
 * skipping events: DATA_LOSS when the stream's history changed since the cursor was issued (a
 * different epoch, or the event it names is gone without having been trimmed: Redis lost or rolled
 * back data), OUT_OF_RANGE when retention removed events after it. Resolves with the stream's
 * epoch, in which the subscription's events are then issued.
 */
export async function checkCursor(redis: SgRedis, keys: TenantKeys, cursor: Cursor, windowStart?: string): Promise<string> {
  const state = await readStreamState(redis, keys, cursor.id === MIN_ID ? "" : cursor.id);
  const text = cursor.epoch === undefined ? cursor.id : formatCursor(cursor.id, cursor.epoch);
  if (cursor.epoch !== undefined && cursor.epoch !== state.epoch) {
    throw historyLost(
      `cursor ${text} is not from this stream's current history (epoch ${state.epoch}): Redis lost or rolled back data since it was issued (or it was issued for another tenant), so events after it may be gone`,
      text,
    );
  }
  const place = placeOf(cursor.id, state);
  if (place === "diverged") {
    throw historyLost(
      `cursor ${text} names an event this stream no longer has and never trimmed: Redis lost or rolled back data, so events after it may be gone`,
      text,
    );
  }
  // A gap: entries after the cursor were removed (trimmed past it; or removed by a trim Redis does
  // not record, from the head, which may have taken entries after the cursor too).
  let gap = compareIds(state.lowWater, cursor.id) > 0 || (place === "removed" && compareIds(cursor.id, state.lowWater) > 0);
  if (!gap && windowStart !== undefined && compareIds(cursor.id, windowStart) < 0) {
    // Events between the cursor and the window's start are outside the window even if not yet trimmed.
    const between = await redis.xrange(keys.events, `(${cursor.id}`, `(${windowStart}`, "COUNT", 1);
    gap = between.length > 0;
  }
  if (!gap) return state.epoch;
  const first = await firstIdFrom(redis, keys, windowStart ?? "-");
  const earliest = first ? formatCursor(first, state.epoch) : "";
  throw new StreamgateError(
    status.OUT_OF_RANGE,
    `cursor ${text} is older than the retained window; the earliest available cursor is ${earliest || "none (no event is retained)"}. ` +
      "Use from_beginning to replay everything retained.",
    { [EARLIEST_CURSOR_TRAILER]: earliest },
  );
}
