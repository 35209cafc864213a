import { newEpoch } from "../cursors/epoch.js";
import type { SgRedis } from "../redis/commands.js";
import { incarnationKeys, type TenantKeys } from "../redis/layout.js";
import type { NewEvent } from "./validateEvent.js";

/** What an append did. */
export interface Appended {
  /** The stream's epoch: the events' cursors are their IDs in it. */
  epoch: string;
  /** Each event's stream ID, in order (a duplicate's is the first one's). */
  ids: string[];
  /** Per event: true when its idempotency key was within the duplicate window (not appended again). */
  duplicate: boolean[];
}

/** appendEvents.lua's arguments: per event a mask of its optional fields, the key if any, then its values (no field names). */
function batchArgs(events: readonly NewEvent[]): string[] {
  const args: string[] = [];
  for (const ev of events) {
    const details = hasDetails(ev) ? JSON.stringify(ev.details) : "";
    const mask = (ev.author ? 1 : 0) | (ev.username ? 2 : 0) | (details ? 4 : 0) | (ev.idempotencyKey ? 8 : 0);
    args.push(MASKS[mask] as string);
    if (ev.idempotencyKey) args.push(ev.idempotencyKey);
    args.push(ev.routingKey, ev.kref);
    if (ev.author) args.push(ev.author);
    if (ev.username) args.push(ev.username);
    if (details) args.push(details);
  }
  return args;
}

const MASKS = Array.from({ length: 16 }, (_, i) => String(i));

function hasDetails(ev: NewEvent): boolean {
  for (const _ in ev.details) return true;
  return false;
}

/**
 * Appends events to a tenant's stream, all or none, in one atomic script that
 * also skips events whose idempotency key it saw within `dedupWindowMs`
 * (redis/scripts/appendEvents.lua).
 */
export async function appendEvents(
  redis: SgRedis,
  keys: TenantKeys,
  events: readonly NewEvent[],
  dedupWindowMs: number,
): Promise<Appended> {
  const [epoch, ids, flags] = await redis.sgAppendEvents(...incarnationKeys(keys), newEpoch(), dedupWindowMs, ...batchArgs(events));
  const duplicate: boolean[] = new Array(ids.length);
  for (let i = 0; i < ids.length; i++) duplicate[i] = flags.charCodeAt(i) === 49; // "1"
  return { epoch, ids, duplicate };
}
