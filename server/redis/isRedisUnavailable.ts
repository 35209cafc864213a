// How ioredis says that Redis could not be reached or did not answer, as
// opposed to a command Redis rejected. One home for these strings.

/** A command passed its bound (STREAMGATE_REDIS_TIMEOUT_MS): Redis may or may not have run it. */
export function isCommandTimeout(err: unknown): boolean {
  return err instanceof Error && err.message === "Command timed out";
}

/** ioredis refused the command without sending it: the connection was down and does not queue. */
export function isNotSent(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith("Stream isn't writeable");
}

/**
 * True for the errors ioredis raises when Redis cannot be reached (a restart,
 * a network cut) or does not answer in time (paused, stalled), as opposed to a
 * command Redis rejected: the offline queue gave up (MaxRetriesPerRequestError),
 * the connection closed under a command or was not open (a connection that does
 * not queue), a command passed STREAMGATE_REDIS_TIMEOUT_MS, or the socket failed.
 */
export function isRedisUnavailable(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown; code?: unknown } | null;
  if (!e || typeof e !== "object") return false;
  if (e.name === "MaxRetriesPerRequestError" || e.name === "WriteInterrupted" || e.message === "Connection is closed.") return true;
  if (isCommandTimeout(err) || isNotSent(err)) return true;
  return typeof e.code === "string" && ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH"].includes(e.code);
}
