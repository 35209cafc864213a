// The idempotency key of a copied event, shared by `streamgate copy` and
// `streamgate publish` (for `tail --json` lines): derived from the source
// event's cursor, so every send of one source event, by any run of either
// command, carries the same key, and the destination stores it once within its
// duplicate window (STREAMGATE_DEDUP_WINDOW_MS).

/** The idempotency key of a copy of the source event at `cursor`: "copy:" and the cursor. */
export function copyKey(cursor: string): string {
  return `copy:${cursor}`;
}
