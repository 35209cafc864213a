// The progress line of `streamgate publish` on a terminal's stderr: a bar when
// the input's size is known (a file on stdin), else a running count, with the
// rate. Redrawn at most every REDRAW_MS; cleared before the final summary.

const REDRAW_MS = 100;
const BAR_WIDTH = 24;

export class Progress {
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly totalBytes: number | undefined,
  ) {}

  /** Shows `events` published and `bytesRead` of the input consumed (throttled). */
  update(events: number, bytesRead: number): void {
    const now = Date.now();
    if (now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const parts = ["publishing"];
    if (this.totalBytes) {
      const ratio = Math.min(1, bytesRead / this.totalBytes);
      const full = Math.round(ratio * BAR_WIDTH);
      parts.push(`${"█".repeat(full)}${"░".repeat(BAR_WIDTH - full)} ${String(Math.floor(ratio * 100)).padStart(3)}%`);
    }
    parts.push(`${events.toLocaleString("en-US")} events`, `${rate(events, now - this.started)}/s`);
    this.stream.write(`\r\u001b[K${parts.join("  ")}`);
    this.drawn = true;
  }

  /** Removes the progress line. */
  clear(): void {
    if (this.drawn) this.stream.write("\r\u001b[K");
    this.drawn = false;
  }
}

/** Events per second, rounded for display. */
export function rate(events: number, ms: number): string {
  const perSecond = ms > 0 ? (events * 1000) / ms : 0;
  return Math.round(perSecond).toLocaleString("en-US");
}
