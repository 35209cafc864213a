/**
 * True for the errors ioredis raises when Redis cannot be reached (a restart,
 * a network cut), as opposed to a command Redis rejected: the offline queue gave
 * up (MaxRetriesPerRequestError), the connection closed under a command, or the
 * socket failed.
 */
export function isRedisUnavailable(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown; code?: unknown } | null;
  if (!e || typeof e !== "object") return false;
  if (e.name === "MaxRetriesPerRequestError" || e.message === "Connection is closed.") return true;
  return typeof e.code === "string" && ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH"].includes(e.code);
}
