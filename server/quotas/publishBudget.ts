// Bytes of publish requests waiting for Redis, across the process. While Redis
// is slow (paused, stalled, failing over) requests would otherwise pile up in
// memory for as long as it stays slow; past the budget a publish is refused at
// once with UNAVAILABLE and a retry hint, before anything is sent to Redis.
import { status } from "@grpc/grpc-js";
import { RETRY_AFTER_TRAILER, StreamgateError } from "../errors.js";

export class PublishBudget {
  private used = 0;

  constructor(private readonly maxBytes: number) {}

  /** Bytes held by publishes in flight. */
  get inUse(): number {
    return this.used;
  }

  /**
   * Holds `bytes` while `work` runs. Throws UNAVAILABLE (retry-after-ms) when they do not fit;
   * a single request larger than the whole budget is let through alone.
   */
  async hold<T>(bytes: number, work: () => Promise<T>): Promise<T> {
    if (this.used > 0 && this.used + bytes > this.maxBytes) {
      throw new StreamgateError(
        status.UNAVAILABLE,
        `the server has ${this.used} bytes of publishes waiting for Redis (STREAMGATE_PUBLISH_INFLIGHT_BYTES is ${this.maxBytes}); retry shortly`,
        { [RETRY_AFTER_TRAILER]: "100" },
      );
    }
    this.used += bytes;
    try {
      return await work();
    } finally {
      this.used -= bytes;
    }
  }
}
