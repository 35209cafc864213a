// Per-tenant publish rate: a token bucket per tenant, refilled at the tier's
// events/second up to its burst. Buckets live in this process, so with N
// replicas behind a load balancer a tenant can publish up to N times the rate;
// a per-event Redis round trip would cost more than the limit is worth. The
// concurrent-stream limit, where exactness matters more, is shared in Redis
// (streamLeases.ts).
import { status } from "@grpc/grpc-js";
import { RETRY_AFTER_TRAILER, StreamgateError } from "../errors.js";
import type { Tier } from "../tenancy/tiers.js";

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets kept before full (idle) ones are dropped. */
const MAX_BUCKETS = 100_000;

export class PublishRate {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Takes `n` events' worth of tokens from the tenant's bucket, or throws
   * RESOURCE_EXHAUSTED naming the limit (taking nothing). A tier change takes
   * effect on the next call: the bucket refills at the new rate, capped at the new burst.
   */
  take(tenant: string, tier: Tier, n: number): void {
    const rate = tier.publishRatePerSecond;
    if (rate < 0) return;
    const burst = tier.publishBurst;
    const limit = `the ${tier.name} tier's publish rate limit (${rate} events/s, burst ${burst})`;
    if (n > burst) {
      throw new StreamgateError(status.RESOURCE_EXHAUSTED, `a batch of ${n} events is larger than ${limit}; split it`, {
        "streamgate-max-batch": String(burst),
      });
    }
    const now = this.now();
    let bucket = this.buckets.get(tenant);
    if (!bucket) {
      if (this.buckets.size >= MAX_BUCKETS) this.prune(now);
      bucket = { tokens: burst, at: now };
      this.buckets.set(tenant, bucket);
    }
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    if (bucket.tokens < n) {
      const waitMs = Math.ceil(((n - bucket.tokens) / rate) * 1000);
      throw new StreamgateError(status.RESOURCE_EXHAUSTED, `tenant ${tenant} exceeded ${limit}; retry in ${waitMs} ms`, {
        [RETRY_AFTER_TRAILER]: String(waitMs),
      });
    }
    bucket.tokens -= n;
  }

  /** Drops buckets idle long enough to be full again (they would start full anyway). */
  private prune(now: number): void {
    for (const [tenant, b] of this.buckets) if (now - b.at > 60_000) this.buckets.delete(tenant);
  }
}
