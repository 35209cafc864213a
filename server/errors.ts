import { status } from "@grpc/grpc-js";
import { counters } from "./observability/counters.js";

/**
 * `text` as quoted in a message, at most `max` characters of it: input echoed back must stay small
 * (a status message travels in an HTTP/2 header; one too large for the header list wedges the
 * connection, every call on it included).
 */
export function quoted(text: string, max = 80): string {
  if (text.length <= max) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, max))}... (${text.length} characters)`;
}

/** The longest status message the server sends; longer ones are cut (see {@link quoted}). */
export const MAX_STATUS_MESSAGE = 1024;

/** A deliberate failure with the gRPC status it maps to and a message a user can act on. */
export class StreamgateError extends Error {
  override name = "StreamgateError";
  constructor(
    readonly code: status,
    message: string,
    /** Extra trailing metadata, e.g. the last delivered cursor. */
    readonly trailers: Record<string, string> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export const LAST_CURSOR_TRAILER = "streamgate-last-cursor";

/** Trailer telling a client how long to wait before retrying (rate limits, a server waiting for Redis). */
export const RETRY_AFTER_TRAILER = "retry-after-ms";

/**
 * Trailer saying why the server ended a stream; "slow-consumer" marks a RESOURCE_EXHAUSTED for a
 * subscriber that fell behind retention: events after its last cursor were trimmed, so resuming
 * from that cursor would fail with OUT_OF_RANGE (the SDK does not retry it).
 */
export const REASON_TRAILER = "streamgate-reason";
export const SLOW_CONSUMER = "slow-consumer";
/**
 * The reason of a DATA_LOSS: the stream's history changed under the cursor or subscription (Redis
 * lost data, or was restored from an older copy: cursors/epoch.ts). Retrying cannot help.
 */
export const HISTORY_LOST = "data-loss";

/**
 * DATA_LOSS: the events after `lastCursor` cannot all be delivered because the stream's history
 * changed (see {@link HISTORY_LOST}). `advice` says how to carry on.
 */
export function historyLost(
  why: string,
  lastCursor: string,
  advice = "resubscribe live or from_beginning to continue with what the stream holds now",
): StreamgateError {
  counters.historyLost++;
  return new StreamgateError(status.DATA_LOSS, `${why}. Nothing was skipped silently: ${advice}.`, {
    [LAST_CURSOR_TRAILER]: lastCursor,
    [REASON_TRAILER]: HISTORY_LOST,
  });
}

/** The error a stream ends with when its credentials stop being valid (revoked key, expired token). */
export function credentialsEnded(why: string, lastCursor: string): StreamgateError {
  return new StreamgateError(
    status.UNAUTHENTICATED,
    `${why}; the stream was ended${lastCursor ? ` after cursor ${lastCursor}` : ""}. Reconnect with valid credentials.`,
    { [LAST_CURSOR_TRAILER]: lastCursor },
  );
}
