import { status } from "@grpc/grpc-js";

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

/**
 * Trailer saying why the server ended a stream; "slow-consumer" marks a RESOURCE_EXHAUSTED for a
 * subscriber that fell behind retention: events after its last cursor were trimmed, so resuming
 * from that cursor would fail with OUT_OF_RANGE (the SDK does not retry it).
 */
export const REASON_TRAILER = "streamgate-reason";
export const SLOW_CONSUMER = "slow-consumer";

/** The error a stream ends with when its credentials stop being valid (revoked key, expired token). */
export function credentialsEnded(why: string, lastCursor: string): StreamgateError {
  return new StreamgateError(
    status.UNAUTHENTICATED,
    `${why}; the stream was ended${lastCursor ? ` after cursor ${lastCursor}` : ""}. Reconnect with valid credentials.`,
    { [LAST_CURSOR_TRAILER]: lastCursor },
  );
}
