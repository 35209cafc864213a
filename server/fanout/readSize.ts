// How many entries to ask Redis for in one read (a shared reader's XREAD, a
// catch-up page's XRANGE) so that a read holds about a set number of bytes:
// Redis takes a COUNT, not a size, and one stream's entries may be a hundred
// bytes or tens of kilobytes each. A thousand 56 KB events read at once, by
// each of ten subscribers that did not read, once held 1.4 GB. The count
// follows the size of the entries read last.
import type { RawEntry } from "./decodeEntries.js";

/** Entries asked for before anything is known of their size: small, so that a stream of large events starts small. */
const FIRST_COUNT = 16;

export class ReadSize {
  private bytesPerEntry = 0;

  constructor(
    private readonly maxCount: number,
    private readonly maxBytes: number,
  ) {}

  /** The COUNT for the next read: at most `maxCount`, about `maxBytes` at the size seen last, at least 1. */
  get count(): number {
    if (this.bytesPerEntry === 0) return Math.min(this.maxCount, FIRST_COUNT);
    return Math.max(1, Math.min(this.maxCount, Math.floor(this.maxBytes / this.bytesPerEntry)));
  }

  /** Learns the entries' size from a read. */
  observe(entries: readonly RawEntry[]): void {
    if (entries.length === 0) return;
    let bytes = 0;
    for (const [id, fields] of entries) {
      bytes += id.length;
      for (const f of fields) bytes += f.length;
    }
    this.bytesPerEntry = Math.max(1, bytes / entries.length);
  }
}
