import type { Redis } from "ioredis";

/** XREADGROUP's reply: per stream, its entries as [id, fields]. */
export type StreamEntries = [stream: string, entries: [string, string[]][]][];

/** Who reads (group and member) and from which two streams. */
export interface ReadTarget {
  group: string;
  member: string;
  events: string;
  retry: string;
}

/**
 * Reads entries the group has never delivered (`>`) from the events stream and
 * the group's retry stream, blocking up to `blockMs`, and never returns more
 * than `room` entries in all: XREADGROUP's COUNT applies to each stream, so
 * the room is split between them. With room for only one, the retry stream is
 * looked at without blocking first, then only the events stream blocks (a
 * replayed entry arriving meanwhile waits for that block to end, at most
 * `blockMs`): one blocking read of both could return one entry from each.
 */
export async function readNew(reader: Redis, t: ReadTarget, room: number, blockMs: number): Promise<StreamEntries> {
  if (room >= 2) return xreadgroup(reader, t, [t.events, t.retry], Math.floor(room / 2), blockMs);
  const replayed = await xreadgroup(reader, t, [t.retry], 1, undefined);
  if (replayed.length > 0) return replayed;
  return xreadgroup(reader, t, [t.events], 1, blockMs);
}

async function xreadgroup(
  reader: Redis,
  t: ReadTarget,
  streams: string[],
  count: number,
  blockMs: number | undefined,
): Promise<StreamEntries> {
  const args: (string | number)[] = ["GROUP", t.group, t.member, "COUNT", count];
  if (blockMs !== undefined) args.push("BLOCK", blockMs);
  args.push("STREAMS", ...streams, ...streams.map(() => ">"));
  const reply = (await reader.call("XREADGROUP", args)) as StreamEntries | null;
  return reply ?? [];
}
