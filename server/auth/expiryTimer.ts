/** setTimeout's longest delay; later deadlines are reached by re-arming. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `onExpired` once `expiresAt` (ms since the epoch) has passed, however far
 * away it is; returns the function that cancels it. Undefined: never expires.
 */
export function whenExpired(expiresAt: number | undefined, onExpired: () => void): () => void {
  if (expiresAt === undefined) return () => {};
  let timer: NodeJS.Timeout;
  const arm = () => {
    const left = expiresAt - Date.now();
    if (left <= 0) return onExpired();
    timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
  };
  arm();
  return () => clearTimeout(timer);
}
