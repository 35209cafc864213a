// The batch `publish` (from stdin) and `copy` fill as events come: sent when
// full (events or bytes) or `lingerMs` after its first event, whichever comes
// first, so a trickle is sent promptly and a flood in large batches (Kafka's
// linger.ms).
import type { NewEvent } from "../../client-sdk/src/index.js";
import { batchEntryBytes } from "../events/batchBytes.js";
import type { BatchPublisher, Outgoing } from "./batchPublisher.js";

export class LingeringBatch<S> {
  private items: Outgoing<S>[] = [];
  private bytes = 0;
  /** When the batch is to be sent even if not full (ms since the epoch); Infinity while it is empty. */
  due = Number.POSITIVE_INFINITY;

  constructor(
    private readonly publisher: BatchPublisher<S>,
    private readonly lingerMs: number,
  ) {}

  /** Adds an event (whose idempotency key, if any, is set: it counts in the bytes), sending first or after as the limits say. */
  async add(event: NewEvent, source: S): Promise<void> {
    const size = batchEntryBytes(event);
    if (this.items.length > 0 && this.bytes + size > this.publisher.maxBytes) await this.flush();
    if (this.items.length === 0) this.due = Date.now() + this.lingerMs;
    this.items.push({ event, size, source });
    this.bytes += size;
    if (this.items.length >= this.publisher.maxEvents) await this.flush();
  }

  /** Sends what there is. */
  async flush(): Promise<void> {
    if (this.items.length === 0) return;
    const sending = this.items;
    this.items = [];
    this.bytes = 0;
    this.due = Number.POSITIVE_INFINITY;
    await this.publisher.publish(sending);
  }
}
