// The checker of the reliability tests: what producers were told (acknowledged
// publishes, each event identified by the `seq` in its details) against what
// every subscriber received and what the stream holds.
//   lost:       acknowledged, but a subscriber never received it
//   duplicated: received twice by one subscriber, or stored twice (two entries with one seq)
//   reordered:  a subscriber received it after an event stored later
import type { Event } from "../../client-sdk/src/index.js";

export interface Verdict {
  acknowledged: number;
  /** Per subscriber. */
  lost: number[];
  duplicated: number[];
  reordered: number[];
  /** Entries of the stream whose seq another entry has too. */
  storedTwice: number;
}

/** Acknowledged publishes, by seq, with the cursor each was acknowledged with. */
export class Ledger {
  readonly acked = new Map<number, string>();
  private next = 0;

  /** A new sequence number for an event about to be published. */
  seq(): number {
    return this.next++;
  }

  ack(seq: number, cursor: string): void {
    const before = this.acked.get(seq);
    if (before !== undefined && before !== cursor)
      throw new Error(`seq ${seq} acknowledged twice with different cursors: ${before}, ${cursor}`);
    this.acked.set(seq, cursor);
  }

  /**
   * Compares the acknowledged events with each subscriber's received list and the stream's
   * stored seqs (in stream order).
   */
  verdict(received: readonly (readonly Event[])[], storedSeqs: readonly number[]): Verdict {
    const seen = new Set<number>();
    let storedTwice = 0;
    for (const s of storedSeqs) {
      if (seen.has(s)) storedTwice++;
      seen.add(s);
    }
    const lost: number[] = [];
    const duplicated: number[] = [];
    const reordered: number[] = [];
    for (const events of received) {
      const got = new Map<number, number>();
      let dup = 0;
      let out = 0;
      let last = "";
      for (const e of events) {
        const seq = Number(e.details.seq);
        got.set(seq, (got.get(seq) ?? 0) + 1);
        if (got.get(seq) === 2) dup++;
        if (last && compareCursors(e.cursor, last) <= 0) out++;
        last = e.cursor;
      }
      let missing = 0;
      for (const seq of this.acked.keys()) if (!got.has(seq)) missing++;
      lost.push(missing);
      duplicated.push(dup);
      reordered.push(out);
    }
    return { acknowledged: this.acked.size, lost, duplicated, reordered, storedTwice };
  }
}

/** Orders two cursors of one epoch by their stream IDs. */
function compareCursors(a: string, b: string): number {
  const [ma, sa] = idParts(a);
  const [mb, sb] = idParts(b);
  return ma !== mb ? ma - mb : sa - sb;
}

function idParts(cursor: string): [number, number] {
  const dash = cursor.indexOf("-");
  const dot = cursor.indexOf(".");
  return [Number(cursor.slice(0, dash)), Number(cursor.slice(dash + 1, dot < 0 ? undefined : dot))];
}

/** A verdict with nothing lost, duplicated, stored twice or reordered. */
export function clean(v: Verdict, subscribers: number): Verdict {
  const zeros = Array.from({ length: subscribers }, () => 0);
  return { acknowledged: v.acknowledged, lost: zeros, duplicated: zeros, reordered: zeros, storedTwice: 0 };
}
