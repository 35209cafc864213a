// A mergeable latency histogram: logarithmic buckets 2% wide from 10 µs up, so
// that subscribers in different processes can be combined into one p50/p99/max
// without shipping every sample.

const MIN_MS = 0.01;
const GROWTH = Math.log(1.02);
const BUCKETS = 1000;

export interface HistogramData {
  counts: number[];
  max: number;
  total: number;
}

export class Histogram {
  readonly counts = new Uint32Array(BUCKETS);
  max = 0;
  total = 0;

  record(ms: number): void {
    const v = ms < MIN_MS ? MIN_MS : ms;
    const i = Math.min(BUCKETS - 1, Math.floor(Math.log(v / MIN_MS) / GROWTH));
    this.counts[i] = (this.counts[i] as number) + 1;
    this.total++;
    if (ms > this.max) this.max = ms;
  }

  merge(data: HistogramData): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] = (this.counts[i] as number) + (data.counts[i] ?? 0);
    this.total += data.total;
    if (data.max > this.max) this.max = data.max;
  }

  /** The upper edge of the bucket holding quantile q (0..1); 0 when empty. */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] as number;
      if (seen >= rank) return Math.min(this.max, MIN_MS * Math.exp((i + 1) * GROWTH));
    }
    return this.max;
  }

  toJSON(): HistogramData {
    return { counts: Array.from(this.counts), max: this.max, total: this.total };
  }
}
