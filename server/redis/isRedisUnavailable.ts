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
  if (e.message === "Command timed out" || (typeof e.message === "string" && e.message.startsWith("Stream isn't writeable"))) return true;
  return typeof e.code === "string" && ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH"].includes(e.code);
}
