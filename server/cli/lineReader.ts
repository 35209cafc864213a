// The lines of `streamgate publish`'s stdin, read as they arrive. Unlike a
// for-await over the stream, it can stop on Ctrl-C without losing what the
// process has already received: stop() takes the stream's buffered bytes, ends
// the input there, and the lines received so far still come out, so publish
// can send them before it exits. Reading pauses while many lines wait (memory
// stays bounded while the caller publishes).

/** One input line, its 1-based number, and the input's bytes read so far. */
export interface Line {
  text: string;
  number: number;
  bytesRead: number;
}

// Reading pauses past this many characters of lines not yet taken, and resumes once they are taken.
const HIGH_WATER_CHARS = 1 << 20;

/** An async iterator over the lines of a byte stream; {@link LineReader.stop} ends it after what has been received. */
export class LineReader implements AsyncIterator<Line> {
  /** Bytes received from the input so far. */
  bytesRead = 0;
  private readonly queue: Line[] = [];
  private head = 0;
  private queuedChars = 0;
  private rest = "";
  private number = 0;
  private readonly decoder = new TextDecoder();
  private ended = false;
  private paused = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly input: NodeJS.ReadableStream & { destroy?(): void }) {
    input.on("data", this.onData);
    input.once("end", this.onEnd);
    input.once("error", this.onError);
  }

  /** The next line, or done once the input has ended (or {@link stop} was called and every line received before has been taken). */
  async next(): Promise<IteratorResult<Line, undefined>> {
    for (;;) {
      if (this.head < this.queue.length) {
        const line = this.queue[this.head++] as Line;
        this.queuedChars -= line.text.length;
        if (this.head === this.queue.length) {
          this.queue.length = 0;
          this.head = 0;
          if (this.paused && !this.ended) {
            this.paused = false;
            this.input.resume();
          }
        }
        return { value: line, done: false };
      }
      if (this.failure) throw this.failure;
      if (this.ended) return { value: undefined, done: true };
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /**
   * Ends the input at what the process has received: the bytes the stream holds are split into
   * lines too, a last line without its newline is dropped (it may be half written), and the
   * stream is destroyed. The lines received so far are still returned by {@link next}.
   */
  stop(): void {
    if (this.ended) return;
    this.detach();
    this.input.on("error", () => {}); // the stream is being given up: a late error is of no interest
    this.input.pause();
    for (let chunk = this.input.read(); chunk !== null; chunk = this.input.read()) this.take(chunk as Buffer | string);
    this.rest = "";
    this.ended = true;
    this.input.destroy?.();
    this.wakeUp();
  }

  private readonly onData = (chunk: Buffer | string) => {
    this.take(chunk);
    if (this.queuedChars > HIGH_WATER_CHARS && !this.paused) {
      this.paused = true;
      this.input.pause();
    }
    this.wakeUp();
  };

  private readonly onEnd = () => {
    this.rest += this.decoder.decode();
    if (this.rest.length > 0) this.push(this.rest);
    this.rest = "";
    this.ended = true;
    this.detach();
    this.wakeUp();
  };

  private readonly onError = (err: Error) => {
    this.failure = err;
    this.ended = true;
    this.detach();
    this.wakeUp();
  };

  private take(chunk: Buffer | string): void {
    this.bytesRead += chunk.length;
    this.rest += typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true });
    let from = 0;
    for (let nl = this.rest.indexOf("\n"); nl >= 0; nl = this.rest.indexOf("\n", from)) {
      this.push(this.rest.slice(from, nl));
      from = nl + 1;
    }
    this.rest = this.rest.slice(from);
  }

  private push(text: string): void {
    const line = text.endsWith("\r") ? text.slice(0, -1) : text;
    this.queue.push({ text: line, number: ++this.number, bytesRead: this.bytesRead });
    this.queuedChars += line.length;
  }

  private detach(): void {
    this.input.off("data", this.onData);
    this.input.off("end", this.onEnd);
    this.input.off("error", this.onError);
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
