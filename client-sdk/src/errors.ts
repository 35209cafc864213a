import { status } from "@grpc/grpc-js";

/** gRPC status codes, re-exported so callers need not import grpc-js. */
export { status as Code };

/** Every failure the client reports: the gRPC status code plus the server's message. */
export class StreamgateClientError extends Error {
  /** Always "StreamgateClientError" (tell it from an `AbortError` by name). */
  override name = "StreamgateClientError";
  /** Trailing metadata the server sent with the error (e.g. `streamgate-last-cursor`). */
  readonly trailers: Record<string, string>;

  /** Usually made by the client from a grpc-js error; `options.cause` keeps the original. */
  constructor(
    /** The gRPC status code (see {@link Code}). */
    readonly code: status,
    message: string,
    trailers: Record<string, string> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.trailers = trailers;
  }

  /** The code's name, e.g. "OUT_OF_RANGE". */
  get codeName(): string {
    return status[this.code] ?? String(this.code);
  }

  /** True when reconnecting may succeed (see {@link isRetryable}). */
  get retryable(): boolean {
    return isRetryable(this);
  }
}

interface GrpcErrorLike {
  code?: number;
  details?: string;
  message?: string;
  metadata?: { getMap(): Record<string, unknown> };
}

/** Wraps a grpc-js error (or anything thrown) as a {@link StreamgateClientError}. */
export function fromGrpcError(err: unknown): StreamgateClientError {
  if (err instanceof StreamgateClientError) return err;
  const e = err as GrpcErrorLike;
  const trailers: Record<string, string> = {};
  for (const [k, v] of Object.entries(e?.metadata?.getMap() ?? {})) trailers[k] = String(v);
  const code = typeof e?.code === "number" ? e.code : status.UNKNOWN;
  return new StreamgateClientError(code, e?.details || e?.message || String(err), trailers, { cause: err });
}

/** The error an aborted signal ends a call with: its reason, or a DOMException named AbortError. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted", "AbortError");
}

// grpc-js reports a stream reset by the transport (not by the server's handler)
// as INTERNAL with these details; see its subchannel-call.ts.
const TRANSPORT_RESET = /^Received RST_STREAM|Call ended without gRPC status/;

/** Trailer with which the server marks why it ended a stream. */
export const REASON_TRAILER = "streamgate-reason";
/**
 * The reason of a stream ended with RESOURCE_EXHAUSTED because its subscriber fell behind the retention
 * window: retention trimmed events it had not received yet. Those events are gone, so resuming from its
 * cursor would fail with OUT_OF_RANGE; {@link isRetryable} is false for it.
 */
export const SLOW_CONSUMER = "slow-consumer";

/**
 * The reason (trailer `streamgate-reason`) of a DATA_LOSS: the stream's history changed since the
 * cursor was issued or under the subscription (Redis lost data, or was restored from an older
 * copy), so events after it may be gone. Nothing is skipped silently; retrying cannot help: start
 * again live or `fromBeginning`, accepting the loss.
 */
export const HISTORY_LOST = "data-loss";

/** Whether `err` ended a stream whose subscriber fell behind the retention window (see {@link SLOW_CONSUMER}). */
export function fellBehindRetention(err: StreamgateClientError): boolean {
  return err.code === status.RESOURCE_EXHAUSTED && err.trailers[REASON_TRAILER] === SLOW_CONSUMER;
}

/**
 * Whether a broken stream is worth reopening: the server is unavailable or
 * draining (UNAVAILABLE), aborted the call (ABORTED), or the transport dropped
 * the call (CANCELLED that the client did not ask for, INTERNAL from a reset
 * HTTP/2 stream). Everything else would fail the same way again:
 * UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT, OUT_OF_RANGE,
 * DATA_LOSS (see {@link HISTORY_LOST}), FAILED_PRECONDITION, UNIMPLEMENTED, a server-side INTERNAL, and
 * RESOURCE_EXHAUSTED: a quota (streams, publish rate) refuses again, and a
 * subscriber that fell behind the retention window ({@link SLOW_CONSUMER}) has
 * lost events for good, so resuming from its cursor would get OUT_OF_RANGE.
 */
export function isRetryable(err: StreamgateClientError): boolean {
  switch (err.code) {
    case status.UNAVAILABLE:
    case status.ABORTED:
    case status.CANCELLED:
      return true;
    case status.INTERNAL:
      return TRANSPORT_RESET.test(err.message);
    default:
      return false;
  }
}
