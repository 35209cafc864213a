import type { Tier } from "../tenancy/tiers.js";

/** A stream is trimmed by time at most this often on write (the sweep covers idle streams). */
const TIME_TRIM_EVERY_MS = 1000;

/**
 * Decides when a publish should also trim its stream, so that trimming costs
 * amortised O(1) per event: after a tenth of the tier's buffer has been
 * written (the stream overshoots its buffer by at most that much, per
 * replica), or when a second has passed since the last trim.
 */
export class WriteTrimmer {
  private readonly streams = new Map<string, { writes: number; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Records `n` events written to `stream`; true when the caller should trim it now. */
  due(stream: string, tier: Tier, n: number): boolean {
    const now = this.now();
    let s = this.streams.get(stream);
    if (!s) {
      // The first write this process sees for a stream is due by time: the stream may have aged while idle.
      s = { writes: 0, at: Number.NEGATIVE_INFINITY };
      this.streams.set(stream, s);
    }
    s.writes += n;
    const byCount = tier.maxBufferSize >= 0 && s.writes >= Math.max(1, Math.floor(tier.maxBufferSize / 10));
    const byTime = tier.maxRetentionHours > 0 && now - s.at >= TIME_TRIM_EVERY_MS;
    if (!byCount && !byTime) return false;
    s.writes = 0;
    s.at = now;
    return true;
  }
}
