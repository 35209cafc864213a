// Reading an async iterator with a deadline, for the batching loops of
// `streamgate publish` and `streamgate copy`: they wait for the next line or
// event only until the batch they hold is due, send it, and wait again. The
// next() still on its way is kept and taken by the following call: calling the
// source's next() again would ask for a second value while the first is
// pending, and a Promise.race alone would drop the value when it arrives late.

/** What {@link TimedIterator.next} resolves to when nothing arrived by the deadline or the signal aborted. */
export const IDLE: unique symbol = Symbol("idle");

const NOT_YET: unique symbol = Symbol("not yet");
// Settled already: raced after `pending`, it wins only when `pending` has not settled yet.
const notYet = Promise.resolve(NOT_YET);

/** An async iterator read with a deadline; no value is lost to a timeout. */
export class TimedIterator<T> {
  private pending: Promise<IteratorResult<T, unknown>> | undefined;

  constructor(private readonly source: AsyncIterator<T, unknown>) {}

  /**
   * The source's next result, or {@link IDLE} when none arrived by `deadline` (ms since the epoch;
   * Infinity waits as long as it takes) or when `signal` aborted first. Rejects as the source does.
   */
  async next(deadline = Number.POSITIVE_INFINITY, signal?: AbortSignal): Promise<IteratorResult<T, unknown> | typeof IDLE> {
    this.pending ??= this.source.next();
    const pending = this.pending;
    // A value that is already there (a bulk load's next line) is taken without arming a timer.
    const ready = await Promise.race([pending, notYet]).catch((err: unknown) => {
      this.pending = undefined;
      throw err;
    });
    if (ready !== NOT_YET) {
      this.pending = undefined;
      return ready;
    }
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const idle = new Promise<typeof IDLE>((resolve) => {
      if (deadline !== Number.POSITIVE_INFINITY) timer = setTimeout(() => resolve(IDLE), Math.max(0, deadline - Date.now()));
      if (signal) {
        onAbort = () => resolve(IDLE);
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      }
    });
    try {
      // The source first: a result that is already there wins over an expired deadline.
      const result = await Promise.race([pending, idle]);
      if (result !== IDLE) this.pending = undefined;
      return result;
    } catch (err) {
      this.pending = undefined;
      throw err;
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    }
  }
}
