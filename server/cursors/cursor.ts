// A cursor names a position in one incarnation of a tenant's stream: the
// Redis stream ID of an event and the stream's epoch, "<ms>-<seq>.<epoch>"
// (e.g. "1733620000000-0.9f3a1c02"). The epoch changes whenever the stream's
// history changes under it (created again after Redis lost it, rolled back to
// an older copy), so a cursor from before such a change is refused with
// DATA_LOSS instead of resuming somewhere that silently skips events
// (Centrifugo's epoch + offset). Clients treat cursors as opaque strings.
//
// Cursors issued before epochs existed ("<ms>-<seq>", no epoch) are still
// accepted: they are checked against the stream's current history only (the
// event they name must still be there, or have been trimmed).

/** A parsed cursor. */
export interface Cursor {
  /** The stream ID (canonical "<ms>-<seq>"). */
  id: string;
  /** The epoch it was issued in; undefined for the older form without one. */
  epoch: string | undefined;
}

const CURSOR = /^((?:0|[1-9]\d{0,14})-(?:0|[1-9]\d{0,19}))(?:\.([0-9a-z]{1,32}))?$/;
const MAX_SEQ = 18446744073709551615n;

/** Parses a cursor; null when it is not one this server could have issued. */
export function parseCursor(text: string): Cursor | null {
  const m = CURSOR.exec(text);
  if (!m) return null;
  const id = m[1] as string;
  if (BigInt(id.slice(id.indexOf("-") + 1)) > MAX_SEQ) return null;
  return { id, epoch: m[2] };
}

/** The cursor of stream ID `id` in `epoch`. */
export function formatCursor(id: string, epoch: string): string {
  return `${id}.${epoch}`;
}
