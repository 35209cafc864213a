import { Metadata, type ServerErrorResponse, status } from "@grpc/grpc-js";
import { StreamgateError } from "../errors.js";
import type { Logger } from "../observability/logger.js";

/**
 * Maps a failure to what goes on the wire: deliberate errors keep their code
 * and message; anything else becomes INTERNAL with the cause logged, never sent.
 */
export function toServiceError(err: unknown, log: Logger): ServerErrorResponse {
  if (err instanceof StreamgateError) {
    const metadata = new Metadata();
    for (const [k, v] of Object.entries(err.trailers)) if (v) metadata.set(k, v);
    return Object.assign(new Error(err.message), { code: err.code, details: err.message, metadata });
  }
  if (isRedisUnavailable(err)) {
    log.warn({ err: (err as Error).message }, "redis unavailable");
    return Object.assign(new Error("event store (Redis) is unavailable; retry shortly"), {
      code: status.UNAVAILABLE,
      details: "event store (Redis) is unavailable; retry shortly",
    });
  }
  log.error({ err }, "unexpected error in RPC");
  return Object.assign(new Error("internal error; see server logs"), { code: status.INTERNAL, details: "internal error; see server logs" });
}

/** ioredis's ways of saying the connection is down (as opposed to a command error). */
function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: string }).code;
  return (
    err.name === "MaxRetriesPerRequestError" ||
    code === "ECONNREFUSED" ||
    code === "ECONNRESET" ||
    code === "ETIMEDOUT" ||
    /Connection is closed|Stream isn't writeable|LOADING|READONLY|CLUSTERDOWN|TRYAGAIN/.test(err.message)
  );
}
