import type { Redis } from "ioredis";
import { fromStreamFields, type StoredEvent } from "../events/storedEvent.js";
import type { SgRedis } from "../redis/commands.js";
import type { GroupKeys } from "../redis/layout.js";

/** A dead letter, in rapids' DLQ format plus the event itself. */
export interface DeadLetter {
  id: string;
  event: StoredEvent | null;
  reason: string;
  error: string;
  failedAt: string;
  deliveryCount: number;
  originalCursor: string;
}

/** Up to `limit` dead letters of a group, oldest first, strictly after the dead-letter id `after` ("" for the start). */
export async function listDeadLetters(redis: Redis, keys: GroupKeys, after: string, limit: number): Promise<DeadLetter[]> {
  const entries = (await redis.xrange(keys.dlq, after ? `(${after}` : "-", "+", "COUNT", limit)) as [string, string[]][];
  return entries.map(([id, fields]) => {
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string;
    const event = fromStreamFields(f.original_msg_id ?? id, fields);
    return {
      id,
      event: typeof event === "string" ? null : event,
      reason: f.reason ?? "",
      error: f.error ?? "",
      failedAt: f.failed_at ?? "",
      deliveryCount: Number(f.delivery_count ?? 0),
      originalCursor: f.original_msg_id ?? "",
    };
  });
}

const REPLAY_CHUNK = 500;

/**
 * Moves dead letters (all, or the given ids) back into the group through its
 * retry stream, a bounded chunk per script call so Redis never blocks for long.
 * Nothing replayed is ever trimmed before the group has read and acknowledged
 * it, whatever the dead-letter cap; the retry stream is tidied of what the group
 * no longer needs on each replay and as replayed deliveries are acknowledged.
 */
export async function replayDeadLetters(redis: SgRedis, keys: GroupKeys, group: string, ids: readonly string[]): Promise<number> {
  let total = 0;
  if (ids.length > 0) {
    for (let i = 0; i < ids.length; i += REPLAY_CHUNK) {
      total += await redis.sgDlqReplay(keys.dlq, keys.retry, REPLAY_CHUNK, ...ids.slice(i, i + REPLAY_CHUNK));
    }
  } else {
    for (;;) {
      const n = await redis.sgDlqReplay(keys.dlq, keys.retry, REPLAY_CHUNK);
      total += n;
      if (n < REPLAY_CHUNK) break;
    }
  }
  await redis.sgGroupRetryTrim(keys.retry, group);
  return total;
}

/** Deletes dead letters (all, or the given ids); returns how many were deleted. */
export async function purgeDeadLetters(redis: Redis, keys: GroupKeys, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) {
    const n = await redis.xlen(keys.dlq);
    await redis.del(keys.dlq);
    return n;
  }
  return redis.xdel(keys.dlq, ...ids);
}
