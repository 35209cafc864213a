import { writeFileSync } from "node:fs";
// What one subscriber received, checked against what it should have: every
// expected event exactly once, in the order the system stored them.
import type { Histogram } from "../lib/histogram.js";
import { expects, nowMs, type SubSpec } from "../lib/workload.js";

export interface TallyResult {
  received: number;
  expected: number;
  duplicates: number;
  unexpected: number;
  outOfOrder: number;
  firstAt: number;
  lastAt: number;
}

/** BENCH_TRACE=<file>: (arrival, latency) of every 16th event, written when the process exits. */
const trace: number[] | undefined = process.env.BENCH_TRACE ? [] : undefined;
if (trace) {
  process.on("exit", () => {
    writeFileSync(`${process.env.BENCH_TRACE}.${process.pid}`, JSON.stringify(trace));
  });
}

export class Tally {
  private readonly seen: Uint8Array;
  readonly expected: number;
  received = 0;
  duplicates = 0;
  unexpected = 0;
  outOfOrder = 0;
  firstAt = 0;
  lastAt = 0;
  private lastHi = -1;
  private lastLo = -1;
  private matched = 0;
  private onComplete: (() => void) | undefined;
  readonly complete: Promise<void>;

  constructor(
    readonly spec: SubSpec,
    readonly total: number,
    readonly projects: number,
    expected: number,
    private readonly latency: Histogram | undefined,
    /** Events before this sequence number warm the system up: checked, but not in the latency figures. */
    private readonly measureFrom = 0,
  ) {
    this.seen = new Uint8Array(total);
    this.expected = expected;
    this.complete = new Promise((res) => {
      this.onComplete = res;
    });
    if (expected === 0) this.onComplete?.();
  }

  /**
   * One delivery: `seq` and `sentAt` from its details; (`hi`, `lo`) its stream
   * position, which must grow strictly (a stream ID's two parts, or a sequence and 0).
   */
  record(seq: number, sentAt: number, hi: number, lo = 0): void {
    const at = nowMs();
    if (this.received === 0) this.firstAt = at;
    this.lastAt = at;
    this.received++;
    if (hi < this.lastHi || (hi === this.lastHi && lo <= this.lastLo)) this.outOfOrder++;
    this.lastHi = hi;
    this.lastLo = lo;
    if (!(seq >= 0 && seq < this.total) || !expects(this.spec, seq, this.projects)) {
      this.unexpected++;
      return;
    }
    if (this.seen[seq]) {
      this.duplicates++;
      return;
    }
    this.seen[seq] = 1;
    if (seq >= this.measureFrom) this.latency?.record(at - sentAt);
    if (trace && (seq & 15) === 0) trace.push(at, at - sentAt);
    if (++this.matched === this.expected) this.onComplete?.();
  }

  result(): TallyResult {
    return {
      received: this.received,
      expected: this.expected,
      duplicates: this.duplicates,
      unexpected: this.unexpected,
      outOfOrder: this.outOfOrder,
      firstAt: this.firstAt,
      lastAt: this.lastAt,
    };
  }
}

/** Records a delivery whose position is a Redis stream ID "<ms>-<seq>". */
export function recordAtStreamId(tally: Tally, seq: number, sentAt: number, id: string): void {
  // A Streamgate cursor is the stream ID followed by ".<epoch>"; a raw Redis ID has no suffix.
  const dash = id.indexOf("-");
  const dot = id.indexOf(".", dash);
  tally.record(seq, sentAt, Number(id.slice(0, dash)), Number(id.slice(dash + 1, dot < 0 ? undefined : dot)));
}
