// Redis stream IDs ("<ms>-<seq>"): the position part of Streamgate's cursors
// (cursors/cursor.ts adds the stream's epoch).

export const MIN_ID = "0-0";
// Canonical form only, as Redis writes IDs: no leading zeros, so that one position has one spelling
// and two IDs of equal length compare as strings.
const ID = /^(0|[1-9]\d{0,14})-(0|[1-9]\d{0,19})$/;
const MAX_SEQ = "18446744073709551615";

/** Parses a stream ID in canonical form; null when it is not one Redis could have generated. */
export function parseId(id: string): { ms: number; seq: bigint } | null {
  const m = ID.exec(id);
  if (!m) return null;
  const seq = BigInt(m[2] as string);
  if (seq > 18446744073709551615n) return null;
  return { ms: Number(m[1]), seq };
}

/**
 * Orders two canonical stream IDs: negative, zero or positive. Numeric: the millisecond parts
 * as numbers (at most 15 digits, exact in a double), then the sequences by length and digits
 * (no leading zeros, so the longer one is larger).
 */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  const da = a.indexOf("-");
  const db = b.indexOf("-");
  const ma = Number(a.slice(0, da));
  const mb = Number(b.slice(0, db));
  if (ma !== mb) return ma - mb;
  const la = a.length - da;
  const lb = b.length - db;
  if (la !== lb) return la - lb;
  const sa = a.slice(da + 1);
  const sb = b.slice(db + 1);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Milliseconds part of a stream ID (the time Redis accepted the entry). */
export function idMillis(id: string): number {
  return Number(id.slice(0, id.indexOf("-")));
}

/** The greatest possible ID before `id` ("<ms>-0" -> "<ms-1>-<max seq>"), for "at or after" starts. */
export function idBefore(id: string): string {
  const dash = id.indexOf("-");
  const ms = Number(id.slice(0, dash));
  const seq = BigInt(id.slice(dash + 1));
  if (seq > 0n) return `${ms}-${seq - 1n}`;
  return ms > 0 ? `${ms - 1}-${MAX_SEQ}` : MIN_ID;
}
