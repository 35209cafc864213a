// The grpc-timeout request header, checked before grpc-js acts on it. grpc-js
// (1.14, server-interceptors.ts handleTimeoutHeader) parses it with an
// unanchored /(\d{1,8})\s*([HMSmun])/ and:
// - answers a value without a match ("abc") with INTERNAL, from the call's base
//   object on the next tick, before and around any interceptor: the caller is
//   told the server failed, and the request log sees only a cancellation;
// - reads "1.5S" as 5 seconds and "x5m" as 5 ms;
// - computes the delay as `(digits * unitMs) | 0`, so a valid timeout of 2^31 ms
//   (24.9 days) or more wraps around, often to a negative delay: "3000000S"
//   ends the call at once with DEADLINE_EXCEEDED.
// grpc-js builds the call's metadata with Metadata.fromHttp2Headers and only then
// reads the header from that metadata, so wrapping that parser (grpcJsHooks.ts)
// lets Streamgate take a malformed value out, marked
// for refuseMalformedRequests to answer with INVALID_ARGUMENT, and take out a
// timeout too long for grpc-js's timer (the caller's own deadline still applies).
import type { Metadata } from "@grpc/grpc-js";

/** The marker entry holding a refused value; a client sending it itself only gets its own call refused. */
const MARKER = "streamgate-malformed-grpc-timeout";
const HEADER = "grpc-timeout";

/** PROTOCOL-HTTP2.md: TimeoutValue (1 to 8 ASCII digits) then TimeoutUnit. */
const TIMEOUT = /^(\d{1,8})([HMSmun])$/;
const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };
/** The longest delay grpc-js's `| 0` and setTimeout keep. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Takes a malformed or overlong grpc-timeout out of `metadata` (grpc-js's parse of the headers), marking a malformed one. */
export function markMalformedTimeout(metadata: Metadata): void {
  const values = metadata.get(HEADER);
  if (values.length === 0) return;
  const value = String(values[0]);
  const match = values.length === 1 ? TIMEOUT.exec(value) : null;
  if (!match) {
    metadata.remove(HEADER);
    metadata.set(MARKER, values.length === 1 ? value.slice(0, 64) : `${values.length} values`);
  } else if (Number(match[1]) * (UNIT_MS[match[2] as string] as number) > MAX_TIMER_MS) {
    metadata.remove(HEADER);
  }
}

/** Why the call's grpc-timeout was refused (the status details), or undefined when it was not. */
export function malformedTimeout(metadata: Metadata): string | undefined {
  const marked = metadata.get(MARKER)[0];
  if (marked === undefined) return undefined;
  return `grpc-timeout ${JSON.stringify(String(marked))} is not a timeout: send 1 to 8 digits and a unit (H, M, S, m, u or n), e.g. "500m", once`;
}
