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

/** Moves dead letters (all, or the given ids) back into the group through its retry stream. */
export function replayDeadLetters(redis: SgRedis, keys: GroupKeys, ids: readonly string[]): Promise<number> {
  return redis.sgDlqReplay(keys.dlq, keys.retry, ...ids);
}

export async function purgeDeadLetters(redis: Redis, keys: GroupKeys, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) {
    const n = await redis.xlen(keys.dlq);
    await redis.del(keys.dlq);
    return n;
  }
  return redis.xdel(keys.dlq, ...ids);
}
