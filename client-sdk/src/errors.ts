import { status } from "@grpc/grpc-js";

/** gRPC status codes, re-exported so callers need not import grpc-js. */
export { status as Code };

/** Every failure the client reports: the gRPC status code plus the server's message. */
export class StreamgateClientError extends Error {
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

/**
 * Whether a broken stream is worth reopening: the server is unavailable or
 * draining (UNAVAILABLE), shed the subscriber (RESOURCE_EXHAUSTED, ABORTED), or
 * the transport dropped the call (CANCELLED that the client did not ask for,
 * INTERNAL from a reset HTTP/2 stream). Everything else (UNAUTHENTICATED,
 * PERMISSION_DENIED, INVALID_ARGUMENT, OUT_OF_RANGE, FAILED_PRECONDITION,
 * UNIMPLEMENTED, a server-side INTERNAL, ...) would fail the same way again.
 */
/** Trailer with which the server marks why it ended a stream. */
export const REASON_TRAILER = "streamgate-reason";
/** The reason of a subscriber ended because it fell behind (RESOURCE_EXHAUSTED): resumable from its cursor. */
export const SLOW_CONSUMER = "slow-consumer";

export function isRetryable(err: StreamgateClientError): boolean {
  switch (err.code) {
    case status.RESOURCE_EXHAUSTED:
      // A slow consumer that fell behind resumes from its cursor; a quota (streams, rate) would refuse again.
      return err.trailers[REASON_TRAILER] === SLOW_CONSUMER;
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
