import { abortReason, isRetryable, StreamgateClientError } from "./errors.js";

/**
 * How `publish` and `publishBatch` ride out a server or Redis restart: each attempt waits for
 * the connection to be ready (instead of failing at once while it reconnects), and an attempt
 * that fails with a retryable error (UNAVAILABLE, a reset connection) is sent again with the
 * same idempotency keys, after exponential backoff with full jitter, until the publish's
 * deadline. The server stores an event once per key (within its duplicate window), so a retry
 * of a publish that was stored but whose answer was lost returns the first cursor.
 *
 * Publishes with an event that has no idempotency key (keys turned off with
 * `autoIdempotencyKeys: false` and none set) are never retried: that could store them twice;
 * they fail at once while the server cannot be reached.
 *
 * Keep `timeoutMs` below the server's duplicate window (STREAMGATE_DEDUP_WINDOW_MS, default
 * 2 minutes): a retry later than that is stored again.
 */
export interface PublishRetryOptions {
  /** Bound of one publish, retries and waiting for the connection included, when its call sets no `timeoutMs`. Default 30000. */
  timeoutMs?: number;
  /** Upper bound of the first wait between attempts, in ms. Default 50. */
  initialDelayMs?: number;
  /** Upper bound of any wait between attempts, in ms. Default 2000. */
  maxDelayMs?: number;
}

/** {@link PublishRetryOptions} with every field set. */
export type PublishRetryPolicy = Required<PublishRetryOptions>;

/** The defaults of {@link PublishRetryOptions}. */
export const defaultPublishRetry: Readonly<PublishRetryPolicy> = Object.freeze({ timeoutMs: 30_000, initialDelayMs: 50, maxDelayMs: 2000 });

/** Fills in defaults and validates; `false` (no retries) stays false. Throws TypeError on a bad value. */
export function publishRetryPolicy(options: PublishRetryOptions | false | undefined): PublishRetryPolicy | false {
  if (options === false) return false;
  const policy = { ...defaultPublishRetry, ...options };
  for (const name of ["timeoutMs", "initialDelayMs", "maxDelayMs"] as const) {
    const v = policy[name];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
      throw new TypeError(`publishRetry.${name} must be a number >= 0, got ${String(v)}`);
  }
  if (policy.maxDelayMs < policy.initialDelayMs) {
    throw new TypeError(
      `publishRetry.maxDelayMs (${policy.maxDelayMs}) must be at least publishRetry.initialDelayMs (${policy.initialDelayMs})`,
    );
  }
  return policy;
}

/** One attempt, given the publish's deadline (ms since the epoch). */
export type Attempt<T> = (deadline: number) => Promise<T>;

/**
 * Runs `attempt` until it succeeds, fails with an error retrying cannot fix, the deadline
 * passes or `signal` aborts. With `retry` false, or `safe` false (an event without a key),
 * the first failure is final.
 */
export async function withPublishRetry<T>(
  attempt: Attempt<T>,
  opts: { retry: PublishRetryPolicy | false; safe: boolean; timeoutMs: number | undefined; signal: AbortSignal | undefined },
): Promise<T> {
  const { retry, safe, signal } = opts;
  const timeoutMs = opts.timeoutMs ?? (retry ? retry.timeoutMs : undefined);
  const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
  for (let n = 1; ; n++) {
    try {
      return await attempt(deadline);
    } catch (err) {
      if (!retry || !safe || !(err instanceof StreamgateClientError) || !isRetryable(err) || signal?.aborted) throw err;
      const hinted = Number(err.trailers["retry-after-ms"]) || 0;
      const ceiling = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** Math.min(n - 1, 52));
      const delayMs = Math.max(hinted, Math.floor(Math.random() * ceiling));
      if (Date.now() + delayMs >= deadline) throw timedOut(err, timeoutMs as number, n);
      await pause(delayMs, signal);
    }
  }
}

/** The last retryable error, with its code, saying that the retries ran out of time. */
function timedOut(last: StreamgateClientError, timeoutMs: number, attempts: number): StreamgateClientError {
  return new StreamgateClientError(
    last.code,
    `${last.message} (gave up after ${attempts} attempt${attempts === 1 ? "" : "s"} within the publish's ${timeoutMs} ms)`,
    last.trailers,
    { cause: last },
  );
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
