/**
 * How a subscription reconnects after its stream breaks with a retryable error
 * (see {@link isRetryable}). Waits follow exponential backoff with full jitter:
 * attempt n waits a random time between 0 and min(maxDelayMs, initialDelayMs * 2^(n-1)).
 */
export interface ResumeOptions {
  /**
   * Reconnect attempts in a row (without an event arriving in between) before
   * the loop gives up and throws the last error. Default 20; `Infinity` retries forever; 0 never retries.
   */
  maxAttempts?: number;
  /** Upper bound of the first wait, in ms. Default 100. */
  initialDelayMs?: number;
  /** Upper bound of any wait, in ms. Default 5000. */
  maxDelayMs?: number;
}

/** {@link ResumeOptions} with every field set. */
export type ResumePolicy = Required<ResumeOptions>;

/** The defaults of {@link ResumeOptions}. */
export const defaultResume: Readonly<ResumePolicy> = Object.freeze({ maxAttempts: 20, initialDelayMs: 100, maxDelayMs: 5000 });

function checkNumber(name: string, value: number, allowInfinity: boolean): void {
  const ok = typeof value === "number" && value >= 0 && (Number.isFinite(value) || (allowInfinity && value === Infinity));
  if (!ok) throw new TypeError(`resume.${name} must be a number >= 0${allowInfinity ? " or Infinity" : ""}, got ${String(value)}`);
}

/** Fills in defaults and validates; `false` (no resume) stays false. Throws TypeError on a bad value. */
export function resumePolicy(options: ResumeOptions | false | undefined): ResumePolicy | false {
  if (options === false) return false;
  const policy = { ...defaultResume, ...options };
  checkNumber("maxAttempts", policy.maxAttempts, true);
  checkNumber("initialDelayMs", policy.initialDelayMs, false);
  checkNumber("maxDelayMs", policy.maxDelayMs, false);
  if (policy.maxDelayMs < policy.initialDelayMs) {
    throw new TypeError(`resume.maxDelayMs (${policy.maxDelayMs}) must be at least resume.initialDelayMs (${policy.initialDelayMs})`);
  }
  return policy;
}

/** The wait before reconnect attempt `attempt` (1-based): full jitter over the exponential bound. */
export function backoffDelay(attempt: number, policy: ResumePolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(attempt - 1, 52));
  return Math.floor(random() * ceiling);
}
