import type { Event } from "../../client-sdk/src/index.js";
import type { Paint } from "./colors.js";

/**
 * One event as one JSON object (no newline). The shape is what `streamgate
 * publish` reads from stdin, plus the server-stamped fields, so
 * `streamgate tail --json | streamgate publish -a other:50051` republishes events
 * (the cursor becomes each copy's idempotency key; `streamgate copy` is the
 * interruptible way to copy).
 */
export function eventJson(e: Event): string {
  return JSON.stringify({
    cursor: e.cursor,
    timestamp: e.timestamp,
    routingKey: e.routingKey,
    kref: e.kref.uri,
    author: e.author,
    username: e.username,
    tenantId: e.tenantId,
    details: e.details,
  });
}

function detailValue(v: string): string {
  return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
}

/** One event as one readable line (no newline): time, routing key, kref, author, details, cursor. */
export function eventLine(e: Event, paint: Paint): string {
  const parts = [paint("dim", e.timestamp), paint("cyan", paint("bold", e.routingKey)), paint("green", e.kref.uri)];
  const who = [e.author, e.username && e.username !== e.author ? `(${e.username})` : ""].filter(Boolean).join(" ");
  if (who) parts.push(paint("yellow", who));
  const details = Object.entries(e.details).map(([k, v]) => `${paint("dim", `${k}=`)}${detailValue(v)}`);
  if (details.length > 0) parts.push(details.join(" "));
  if (e.cursor) parts.push(paint("dim", `@${e.cursor}`));
  return parts.join("  ");
}
