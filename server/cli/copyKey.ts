// The idempotency key of a copied event, shared by `streamgate copy` and
// `streamgate publish` (for `tail --json` lines): derived from the source
// event's cursor and the copy's content, so every send of one copy, by any run
// of either command, carries the same key, and the destination stores it once
// within its duplicate window (STREAMGATE_DEDUP_WINDOW_MS). The content is part
// of it because the server decides duplicates by key alone: two different
// events made from one source event (a transform that emits several) must not
// share a key, or all but the first would be dropped as repeats.
import { createHash } from "node:crypto";
import type { NewEvent } from "../../client-sdk/src/index.js";

/** The idempotency key of `copy`, made from the source event at `cursor`: "copy:<cursor>:<content hash>". */
export function copyKey(cursor: string, copy: Pick<NewEvent, "routingKey" | "kref" | "author" | "username" | "details">): string {
  const details = Object.entries(copy.details ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const content = JSON.stringify([copy.routingKey, copy.kref, copy.author ?? "", copy.username ?? "", details]);
  return `copy:${cursor}:${createHash("sha256").update(content).digest("base64url").slice(0, 16)}`;
}
