// What a stream's messages wait in until the caller's loop takes them, for
// subscriptions and group consumers alike (nats.js QueuedIteratorImpl): past a
// high-water mark the source call is paused (grpc-js stops reading and HTTP/2
// flow control pushes back on the server), and it resumes once the loop has
// caught up to the low-water mark, so memory stays bounded however slow the loop.

/** A call that can stop and restart delivering (a grpc-js stream). */
export interface Pausable {
  pause(): unknown;
  resume(): unknown;
}

export class PausingQueue<T> {
  private items: T[] = [];
  private head = 0;
  private paused: Pausable | undefined;
  private waiting: (() => void) | undefined;

  /** Pauses the source past `highWater` items waiting; resumes it at `lowWater`. */
  constructor(
    private readonly highWater: number,
    private readonly lowWater: number,
  ) {}

  /** Items waiting to be taken. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** Adds an item from `source`, pausing it when the queue is full, and wakes the loop. */
  push(item: T, source: Pausable): void {
    this.items.push(item);
    if (!this.paused && this.size >= this.highWater) {
      this.paused = source;
      source.pause();
    }
    this.wake();
  }

  /** Takes the oldest item (undefined when empty), resuming a paused source once the loop has caught up. */
  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head++] as T;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    }
    if (this.paused && this.size <= this.lowWater) {
      const source = this.paused;
      this.paused = undefined;
      source.resume();
    }
    return item;
  }

  /** Resolves on the next push or {@link wake}. */
  wait(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** Wakes a loop waiting in {@link wait} (the stream ended, say). */
  wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }

  /** Drops what waits (and forgets a paused source: the caller discards that call). */
  clear(): void {
    this.items = [];
    this.head = 0;
    this.paused = undefined;
  }
}
