// Which failures the SDK retries, and how long it waits between attempts.
import { describe, expect, it } from "vitest";
import { backoffDelay, Code, defaultResume, isRetryable, StreamgateClientError } from "../../client-sdk/src/index.js";
import { resumePolicy } from "../../client-sdk/src/resume.js";

describe("isRetryable", () => {
  it.each([
    [Code.UNAVAILABLE, "server is shutting down; resume from cursor 1-0", true],
    [Code.UNAVAILABLE, "No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1", true],
    // Behind the retention window, the events it missed are gone: a resume would get OUT_OF_RANGE.
    [Code.RESOURCE_EXHAUSTED, "subscriber fell behind the retention window", false, { "streamgate-reason": "slow-consumer" }],
    [Code.RESOURCE_EXHAUSTED, "the limited tier's limit of concurrent streams (2)", false],
    [Code.CANCELLED, "Call cancelled", true],
    [Code.INTERNAL, "Received RST_STREAM with code 2 (Internal server error)", true],
    [Code.INTERNAL, "Received RST_STREAM with code 0 (Call ended without gRPC status)", true],
    [Code.INTERNAL, "internal error; see server logs", false],
    [Code.UNAUTHENTICATED, "bad token", false],
    [Code.PERMISSION_DENIED, "tier", false],
    [Code.INVALID_ARGUMENT, "bad filter", false],
    [Code.OUT_OF_RANGE, "cursor is older than the retained window", false],
    [Code.FAILED_PRECONDITION, "x", false],
    [Code.UNIMPLEMENTED, "x", false],
    [Code.DEADLINE_EXCEEDED, "x", false],
  ] as [number, string, boolean, Record<string, string>?][])("code %i (%s) -> %s", (code, message, expected, trailers) => {
    expect(isRetryable(new StreamgateClientError(code, message, trailers))).toBe(expected);
  });
});

describe("backoff with full jitter", () => {
  const policy = { maxAttempts: 10, initialDelayMs: 100, maxDelayMs: 1000 };
  it("grows exponentially from initialDelayMs and is capped at maxDelayMs", () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 30].map((n) => backoffDelay(n, policy, top))).toEqual([99, 199, 399, 799, 999, 999]);
  });
  it("is drawn uniformly from zero up to the bound", () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(200);
  });
  it("validates the policy and fills in the defaults", () => {
    expect(resumePolicy(undefined)).toEqual(defaultResume);
    expect(resumePolicy(false)).toBe(false);
    expect(resumePolicy({ maxAttempts: Infinity })).toMatchObject({ maxAttempts: Infinity });
    expect(() => resumePolicy({ initialDelayMs: -1 })).toThrow(/initialDelayMs/);
    expect(() => resumePolicy({ initialDelayMs: 500, maxDelayMs: 100 })).toThrow(/maxDelayMs/);
    expect(() => resumePolicy({ maxAttempts: Number.NaN })).toThrow(/maxAttempts/);
  });
});
