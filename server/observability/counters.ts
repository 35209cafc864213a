// Process-wide tallies bumped on the hot path. They are plain numbers and maps
// (no label hashing, no metric library) so that counting a delivery costs a
// Map lookup; metrics.ts turns them into Prometheus metrics when scraped.

/** Process-wide counters; exported as Prometheus metrics by the metrics listener. */
export const counters = {
  /** Stream entries skipped because they could not be decoded as events. */
  undecodableEntries: 0,
  /** Subscribers that fell behind their queue limit and continued from Redis. */
  slowConsumerCatchUps: 0,
  /** Subscribers ended because they fell behind the retention window. */
  slowConsumerDisconnects: 0,
  /** Times retention trimmed entries before a shared reader read them. */
  feedGaps: 0,
  /** Cursors refused and streams ended with DATA_LOSS: the stream's history changed under them. */
  historyLost: 0,
  /** Times a server saw a stream's history change (created again, or rolled back) and moved to a new epoch. */
  epochChanges: 0,
  /** Published events not appended again because their idempotency key was within the duplicate window. */
  publishDeduplicated: 0,
  /** Consumer-group events moved to a dead-letter stream after max deliveries. */
  deadLettered: 0,
  /** Pending consumer-group entries acknowledged because their event had been trimmed. */
  trimmedPending: 0,
  eventsPublished: 0,
  eventsDelivered: 0,
};

/** The tenant label that every tenant past the label limit is counted under. */
export const OVERFLOW_TENANT = "other";

/**
 * Counts per tenant with a bounded set of tenant keys, so a metric labelled
 * by tenant cannot grow without bound: the first `limit` tenants seen keep
 * their own key for the life of the process (counters must stay monotonic),
 * later ones are summed under {@link OVERFLOW_TENANT}.
 */
export class TenantTally {
  private readonly counts = new Map<string, number>();

  constructor(public limit: number) {}

  add(tenant: string, n: number): void {
    const count = this.counts.get(tenant);
    if (count !== undefined) {
      this.counts.set(tenant, count + n);
      return;
    }
    // A real tenant that happens to be called "other" also lands in the overflow series.
    const key = this.counts.size - (this.counts.has(OVERFLOW_TENANT) ? 1 : 0) < this.limit ? tenant : OVERFLOW_TENANT;
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  /** [tenant label, count] pairs; at most `limit` + 1 of them. */
  entries(): IterableIterator<[string, number]> {
    return this.counts.entries();
  }
}

/** Events appended and events handed to subscribers' transports, by tenant. */
export const tenantCounters = {
  published: new TenantTally(100),
  delivered: new TenantTally(100),
};

/** Sets how many distinct tenant labels each per-tenant metric keeps (STREAMGATE_METRICS_MAX_TENANTS). */
export function setTenantLabelLimit(limit: number): void {
  tenantCounters.published.limit = limit;
  tenantCounters.delivered.limit = limit;
}

/** Counts `n` events appended to `tenant`'s stream. */
export function countPublished(tenant: string, n: number): void {
  counters.eventsPublished += n;
  tenantCounters.published.add(tenant, n);
}

/** Counts `n` events handed to one subscriber of `tenant`'s stream. */
export function countDelivered(tenant: string, n: number): void {
  counters.eventsDelivered += n;
  tenantCounters.delivered.add(tenant, n);
}
