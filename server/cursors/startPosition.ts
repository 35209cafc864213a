import { status } from "@grpc/grpc-js";
import type { EventStreamRequest__Output } from "../../client-sdk/src/generated/kumiho/EventStreamRequest.js";
import { quoted, StreamgateError } from "../errors.js";
import type { Tier } from "../tenancy/tiers.js";
import { type Cursor, parseCursor } from "./cursor.js";
import { parseIsoTime } from "./isoTime.js";
import type { StartAt } from "./startAt.js";

function readCursor(text: string): Cursor {
  const cursor = parseCursor(text);
  if (!cursor) {
    throw new StreamgateError(
      status.INVALID_ARGUMENT,
      `cursor ${quoted(text, 64)} is malformed: pass the cursor of an event this server sent, unchanged (e.g. "1700000000000-0.9f3a1c02")`,
    );
  }
  return cursor;
}

function parseTimestamp(text: string): string {
  const ms = parseIsoTime(text);
  if (typeof ms === "string") throw new StreamgateError(status.INVALID_ARGUMENT, `from_timestamp ${quoted(text, 64)} ${ms}`);
  return `${ms}-0`;
}

function denied(tier: Tier, what: string, capability: string): StreamgateError {
  return new StreamgateError(status.PERMISSION_DENIED, `${what} needs ${capability}, which the ${tier.name} tier does not include`);
}

/**
 * Reads the request's start position: the `start_position` oneof, or the
 * older `cursor` field. Enforces the tier's cursor and replay capabilities.
 *
 * A non-empty `cursor` wins over from_latest, from_beginning and from_timestamp:
 * Kumiho's SDKs send a saved cursor together with the position to use when there
 * is none ("resume, else from the beginning"). Only a different from_cursor conflicts.
 */
export function startPosition(req: EventStreamRequest__Output, tier: Tier): StartAt {
  const legacy = req.cursor ?? "";
  const which = req.startPosition;
  if (legacy && which === "fromCursor" && req.fromCursor !== legacy) {
    throw new StreamgateError(status.INVALID_ARGUMENT, "cursor and from_cursor name different cursors; set one");
  }
  if (legacy || which === "fromCursor") {
    const cursor = legacy || req.fromCursor || "";
    if (!tier.supportsCursor) throw denied(tier, "resuming from a cursor", "cursor support");
    if (cursor === "") throw new StreamgateError(status.INVALID_ARGUMENT, "from_cursor is empty");
    const { id, epoch } = readCursor(cursor);
    return { kind: "after", id, epoch };
  }
  if (which === "fromTimestamp") {
    if (!tier.supportsReplay) throw denied(tier, "from_timestamp", "replay");
    return { kind: "from", id: parseTimestamp(req.fromTimestamp ?? "") };
  }
  if (which === "fromBeginning" && req.fromBeginning) {
    if (!tier.supportsReplay) throw denied(tier, "from_beginning", "replay");
    return { kind: "beginning" };
  }
  return { kind: "live" };
}
