import { Metadata, type ServerErrorResponse, status } from "@grpc/grpc-js";
import { MAX_STATUS_MESSAGE, StreamgateError } from "../errors.js";
import type { Logger } from "../observability/logger.js";
import { callLog } from "../observability/requestLog.js";
import { isRedisUnavailable } from "../redis/isRedisUnavailable.js";

/**
 * Maps a failure to what goes on the wire: deliberate errors keep their code
 * and message; Redis being unreachable is UNAVAILABLE (an outage clients retry);
 * anything else becomes INTERNAL with the cause logged, never sent. Given the
 * call's `metadata`, the log line carries the call's correlation id and tenant
 * (see {@link callLog}), so it can be found from the call's request line.
 */
export function toServiceError(err: unknown, rootLog: Logger, metadata?: Metadata): ServerErrorResponse {
  if (err instanceof StreamgateError) {
    const trailers = new Metadata();
    for (const [k, v] of Object.entries(err.trailers)) if (v) trailers.set(k, v.slice(0, MAX_STATUS_MESSAGE));
    // A last guard: whatever a message quotes, it stays small enough for an HTTP/2 header.
    const message = err.message.length > MAX_STATUS_MESSAGE ? `${err.message.slice(0, MAX_STATUS_MESSAGE)}...` : err.message;
    return Object.assign(new Error(message), { code: err.code, details: message, metadata: trailers });
  }
  const log = callLog(rootLog, metadata);
  if (isRedisUnavailable(err)) {
    log.warn({ err: (err as Error).message }, "Redis is unavailable");
    const message = "Redis is unavailable; retry shortly";
    return Object.assign(new Error(message), { code: status.UNAVAILABLE, details: message });
  }
  log.error({ err }, "unexpected error in RPC");
  return Object.assign(new Error("internal error; see server logs"), { code: status.INTERNAL, details: "internal error; see server logs" });
}
