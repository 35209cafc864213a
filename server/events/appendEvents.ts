import type { SgRedis } from "../redis/commands.js";
import type { TenantKeys } from "../redis/layout.js";
import { trimStream } from "../retention/trimStream.js";
import type { Tier } from "../tenancy/tiers.js";
import { toStreamFields } from "./storedEvent.js";
import type { NewEvent } from "./validateEvent.js";

/** appendEvents.lua's arguments: per event a mask of its optional fields, then its values (no field names). */
function batchArgs(events: readonly NewEvent[]): string[] {
  const args: string[] = [];
  for (const ev of events) {
    const details = hasDetails(ev) ? JSON.stringify(ev.details) : "";
    const mask = (ev.author ? 1 : 0) | (ev.username ? 2 : 0) | (details ? 4 : 0);
    args.push(MASKS[mask] as string, ev.routingKey, ev.kref);
    if (ev.author) args.push(ev.author);
    if (ev.username) args.push(ev.username);
    if (details) args.push(details);
  }
  return args;
}

const MASKS = ["0", "1", "2", "3", "4", "5", "6", "7"];

function hasDetails(ev: NewEvent): boolean {
  for (const _ in ev.details) return true;
  return false;
}

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
    append = redis.sgAppendEvents(keys.events, ...batchArgs(events));
  }
  if (!trimTier) return append;
  const [ids] = await Promise.all([append, trimStream(redis, keys, trimTier)]);
  return ids;
}
