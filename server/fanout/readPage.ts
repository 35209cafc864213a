import type { Redis } from "ioredis";
import type { TenantKeys } from "../redis/layout.js";
import { MIN_ID } from "../redis/streamIds.js";
import { lastId, type RawEntry } from "./decodeEntries.js";

export interface Page {
  entries: RawEntry[];
  /** ID of the last entry, or undefined for an empty page. */
  lastId: string | undefined;
  /** Highest ID removed by retention when the page was read (atomically with it). */
  lowWater: string;
  /** The stream's epoch when the page was read (null: none, the stream is gone). */
  epoch: string | null;
}

/**
 * One catch-up page: XRANGE from `start` ("-", "<id>" inclusive or "(<id>"
 * exclusive), read in the same MULTI as the trim marker and the epoch, so that
 * neither a gap nor a change of the stream's history is ever missed.
 */
export async function readPage(redis: Redis, keys: TenantKeys, start: string, count: number): Promise<Page> {
  // Entries come back as Buffers: the fan-out copies their bytes into events without decoding them.
  const res = await redis.multi().xrangeBuffer(keys.events, start, "+", "COUNT", count).get(keys.trimmed).get(keys.epoch).exec();
  if (!res) throw new Error("catch-up read was aborted");
  const [[rangeErr, entries], [, trimmed], [, epoch]] = res as [
    [Error | null, RawEntry[]],
    [Error | null, string | null],
    [Error | null, string | null],
  ];
  if (rangeErr) throw rangeErr;
  return { entries, lastId: entries.length > 0 ? lastId(entries) : undefined, lowWater: trimmed ?? MIN_ID, epoch };
}
