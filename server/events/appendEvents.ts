import type { SgRedis } from "../redis/commands.js";
import type { TenantKeys } from "../redis/layout.js";
import { trimStream } from "../retention/trimStream.js";
import type { Tier } from "../tenancy/tiers.js";
import { toStreamFields } from "./storedEvent.js";
import type { NewEvent } from "./validateEvent.js";

/**
 * Appends events to a tenant's stream, all or none (one atomic script for several),
 * and resolves with their cursors. With `trimTier`, the stream is trimmed to
 * that tier's retention right after: the trim is pipelined behind the append,
 * so it costs no extra round trip, and Redis serves the blocked shared reader
 * between the two, before anything is trimmed.
 */
export async function appendEvents(redis: SgRedis, keys: TenantKeys, events: readonly NewEvent[], trimTier?: Tier): Promise<string[]> {
  let append: Promise<string[]>;
  if (events.length === 1) {
    append = redis.xadd(keys.events, "*", ...toStreamFields(events[0] as NewEvent)).then((id) => [id as string]);
  } else {
    const args: string[] = [];
    for (const ev of events) {
      const fields = toStreamFields(ev);
      args.push(String(fields.length), ...fields);
    }
    append = redis.sgAppendEvents(keys.events, ...args);
  }
  if (!trimTier) return append;
  const [ids] = await Promise.all([append, trimStream(redis, keys, trimTier)]);
  return ids;
}
