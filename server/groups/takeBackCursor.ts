/**
 * Where a (re)joining member stands in taking back its own pending entries:
 * for each of its streams, the XPENDING start of the next page. A member reads
 * nothing new (`>`) until every stream is done, so after a reconnect it gets
 * back everything it held, however small its max-in-flight, before new events.
 * Paging past what was already taken back means no entry is claimed twice.
 */
export class TakeBackCursor {
  /** Stream -> where its next page starts ("-", or "(<id>" past the last entry looked at); removed once done. */
  private readonly next = new Map<string, string>();

  /** `streams` in the order they are taken back; none: nothing to take back. */
  constructor(streams: readonly string[]) {
    for (const s of streams) this.next.set(s, "-");
  }

  /** True once every stream's own pending list has been paged through. */
  get done(): boolean {
    return this.next.size === 0;
  }

  /** The stream to page next and where its page starts; undefined when done. */
  current(): { stream: string; start: string } | undefined {
    for (const [stream, start] of this.next) return { stream, start };
    return undefined;
  }

  /**
   * Records a page: `seen` of the `asked` entries came back, the last being
   * `last`. A short page means the stream's own pending list is exhausted.
   */
  advance(stream: string, asked: number, seen: number, last: string): void {
    if (seen < asked || !last) this.next.delete(stream);
    else this.next.set(stream, `(${last}`);
  }
}
