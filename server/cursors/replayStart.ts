import type { SgRedis } from "../redis/commands.js";
import type { TenantKeys } from "../redis/layout.js";
import { compareIds } from "../redis/streamIds.js";
import { windowStart } from "../retention/retentionWindow.js";
import { trimStream } from "../retention/trimStream.js";
import type { Tier } from "../tenancy/tiers.js";
import { checkCursor } from "./checkCursor.js";
import type { StartAt } from "./startAt.js";

/**
 * Bounds a replay (from_beginning, from_timestamp or a cursor) by the tier's
 * retention: the stream is first trimmed to the tier (exact buffer size and
 * time window, so a replay never returns what the tier does not keep, even if
 * no write or sweep trimmed it yet), then the start is moved up to the
 * window's start, and a cursor is checked (checkCursor.ts): one with events
 * missing after it is refused with OUT_OF_RANGE naming the earliest available
 * cursor, one from another history of the stream with DATA_LOSS.
 */
export async function replayStart(redis: SgRedis, keys: TenantKeys, tier: Tier, start: StartAt, nowMs = Date.now()): Promise<StartAt> {
  if (start.kind === "live") return start;
  await trimStream(redis, keys, tier, nowMs);
  const from = windowStart(tier, nowMs);
  switch (start.kind) {
    case "beginning":
      return from === undefined ? start : { kind: "from", id: from };
    case "from":
      return from !== undefined && compareIds(start.id, from) < 0 ? { kind: "from", id: from } : start;
    case "after":
      // A cursor without an epoch (the older form) continues in the epoch it was checked against.
      return { ...start, epoch: await checkCursor(redis, keys, start, from) };
  }
}
