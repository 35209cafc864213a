import type { ClientDuplexStream } from "@grpc/grpc-js";
import { abortReason, Code, fromGrpcError, StreamgateClientError } from "./errors.js";
import { type Event, fromWire } from "./event.js";
import type { ConsumeRequest } from "./generated/streamgate/v1/ConsumeRequest.js";
import type { ConsumeResponse__Output } from "./generated/streamgate/v1/ConsumeResponse.js";
import type { Delivery__Output } from "./generated/streamgate/v1/Delivery.js";
import { PausingQueue } from "./pausingQueue.js";

/** What {@link StreamgateClient.consume} takes. */
export interface ConsumeOptions {
  /** Group name (1-64 of [A-Za-z0-9_.-]). Created on first use with the filters and start position given here. */
  group: string;
  /** Stable member name: after a reconnect under the same name, this member first gets back its own unacknowledged events. */
  member?: string;
  /** The group's routing-key filter; members must all use the same. */
  routingKeyFilter?: string;
  /** The group's kref filter; members must all use the same. */
  krefFilter?: string;
  /** For a new group: start with everything retained (default: only new events). */
  fromBeginning?: boolean;
  /** For a new group: start at this time. */
  fromTimestamp?: string | Date;
  /** Most unacknowledged deliveries this member holds (server default 100). */
  maxInFlight?: number;
  /** For a new group: deliveries before an event is dead-lettered (server default 5). */
  maxDeliveries?: number;
  /** For a new group: how long a delivery may stay unacknowledged before another member takes it (server default 30 s). */
  ackTimeoutMs?: number;
  /** Aborting ends the loop with the signal's reason; unacknowledged deliveries go to other members after the ack timeout. */
  signal?: AbortSignal;
}

/** The group as the server reported it on joining. */
export interface Joined {
  /** This member's name: the `member` option, or a name the server generated when it was not set. */
  member: string;
  /** True when this join created the group (with this member's filters and start position). */
  created: boolean;
  /** The group's deliveries of one event before it is dead-lettered. */
  maxDeliveries: number;
  /** The group's ack timeout in ms: an unacknowledged delivery then goes to another member. */
  ackTimeoutMs: number;
}

/** One delivery: process `event`, then `ack()` it, or `nack(error)` to have it redelivered. */
export interface GroupDelivery {
  /** The event to process (its `cursor` is its position in the tenant's stream). */
  event: Event;
  /** Opaque id used by ack and nack. */
  deliveryId: string;
  /** 1 on first delivery; higher on redeliveries. */
  deliveryCount: number;
  /** Marks the event processed; it will not be delivered again. */
  ack(): void;
  /** Marks processing failed: the event is redelivered (to any member) and `error` is kept for the dead-letter entry. */
  nack(error?: string): void;
}

/**
 * A consumer-group member: an AsyncIterable of deliveries with explicit acks
 * (at-least-once). `break`, `close()` or an abort leaves the group; what this
 * member left unacknowledged goes to another member after the ack timeout.
 */
export class GroupConsumer implements AsyncIterable<GroupDelivery>, AsyncDisposable {
  /** Resolves once the server has created or joined the group. */
  readonly joined: Promise<Joined>;
  private readonly call: ClientDuplexStream<ConsumeRequest, ConsumeResponse__Output>;
  private readonly signal: AbortSignal | undefined;
  /** Messages received and not yet iterated: nothing is lost between `joined` and the loop. */
  private readonly queue = new PausingQueue<ConsumeResponse__Output>(BUFFERED_MESSAGES, BUFFERED_MESSAGES / 4);
  private ended = false;
  private failure: unknown;
  private readonly finished: Promise<void>;
  private iterated = false;
  private closedByUser = false;
  private pendingAcks: string[] = [];
  private flushTimer: NodeJS.Immediate | undefined;

  /**
   * Consumers are made by `client.consume(...)`; this constructor is its implementation (it opens the
   * call and joins). `onEnd` is told once the call has ended.
   */
  constructor(
    open: () => ClientDuplexStream<ConsumeRequest, ConsumeResponse__Output>,
    options: ConsumeOptions,
    onEnd?: (consumer: GroupConsumer) => void,
  ) {
    this.call = open();
    this.signal = options.signal;
    const { signal } = options;
    let resolveJoined!: (j: Joined) => void;
    let rejectJoined!: (e: unknown) => void;
    this.joined = new Promise((res, rej) => {
      resolveJoined = res;
      rejectJoined = rej;
    });
    this.joined.catch(() => {});
    this.finished = new Promise((res) => this.call.once("status", () => res()));
    void this.finished.then(() => onEnd?.(this));
    this.call.on("data", (m: ConsumeResponse__Output) => {
      if (m.joined) return resolveJoined({ ...m.joined });
      this.queue.push(m, this.call);
    });
    this.call.on("error", (err) => {
      this.failure = err;
      this.ended = true;
      rejectJoined(signal?.aborted ? abortReason(signal) : fromGrpcError(err));
      this.queue.wake();
    });
    this.call.on("end", () => {
      this.ended = true;
      rejectJoined(new StreamgateClientError(Code.UNAVAILABLE, "the server ended the stream before joining the group"));
      this.queue.wake();
    });
    this.call.write({
      join: {
        group: options.group,
        member: options.member ?? "",
        routingKeyFilter: options.routingKeyFilter ?? "",
        krefFilter: options.krefFilter ?? "",
        ...(options.fromBeginning ? { fromBeginning: true } : {}),
        ...(options.fromTimestamp !== undefined
          ? { fromTimestamp: options.fromTimestamp instanceof Date ? options.fromTimestamp.toISOString() : options.fromTimestamp }
          : {}),
        maxInFlight: options.maxInFlight ?? 0,
        maxDeliveries: options.maxDeliveries ?? 0,
        ackTimeoutMs: options.ackTimeoutMs ?? 0,
      },
    });
    if (signal) {
      if (signal.aborted) this.call.cancel();
      else signal.addEventListener("abort", () => this.call.cancel(), { once: true });
    }
  }

  /**
   * Acknowledges deliveries by id. Acks made in the same turn of the event loop go out
   * together in one message (a loop that acks every delivery sends one Ack per batch).
   */
  ack(deliveryIds: readonly string[]): void {
    if (deliveryIds.length === 0 || this.ended) return;
    for (const id of deliveryIds) this.pendingAcks.push(id);
    this.flushTimer ??= setImmediate(() => this.flushAcks());
  }

  /** Reports failed processing; the deliveries are redelivered and `error` is kept for the dead-letter entry. */
  nack(deliveryIds: readonly string[], error = ""): void {
    if (deliveryIds.length === 0 || this.ended) return;
    this.flushAcks(); // acks and nacks reach the server in the order they were made
    this.call.write({ nack: { deliveryIds: [...deliveryIds], error } });
  }

  private flushAcks(): void {
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pendingAcks.length === 0 || this.ended) return;
    this.call.write({ ack: { deliveryIds: this.pendingAcks } });
    this.pendingAcks = [];
  }

  /** Sends pending acks, then leaves the group (half-close: acks already written still reach the server). */
  close(): void {
    if (this.closedByUser) return;
    this.closedByUser = true;
    this.flushAcks();
    this.call.end();
    // Deliveries still in flight are of no use now: let the call drain so that its status arrives.
    this.queue.clear();
    this.queue.wake();
    this.call.resume();
    const force = setTimeout(() => this.call.cancel(), 5000);
    force.unref();
    this.call.once("status", () => clearTimeout(force));
  }

  /** Leaves the group ({@link close}) and waits until the call has ended (`await using consumer = client.consume(...)`). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.finished;
  }

  /**
   * The deliveries, in the order this member receives them. A consumer can be iterated once; a second
   * iteration throws. Leaving the loop leaves the group; the loop throws the error that ended the call
   * (or the abort reason), and ends quietly after {@link close}.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<GroupDelivery, void, undefined> {
    if (this.iterated) throw new Error("this consumer is already being iterated");
    this.iterated = true;
    try {
      for (;;) {
        const m = this.queue.shift();
        if (m) {
          for (const d of m.deliveries?.deliveries ?? []) yield this.delivery(d);
          continue;
        }
        if (this.ended || this.closedByUser) break;
        await this.queue.wait();
      }
      // The readable ended; the status says whether that was an error.
      await this.finished;
      if (this.signal?.aborted) throw abortReason(this.signal);
      if (this.failure !== undefined && !this.closedByUser) throw fromGrpcError(this.failure);
    } finally {
      this.close();
    }
  }

  private delivery(d: Delivery__Output): GroupDelivery {
    const deliveryId = d.deliveryId;
    return {
      event: fromWire(
        d.event ?? { routingKey: "", kref: null, timestamp: "", author: "", tenantId: "", details: {}, username: "", cursor: "" },
      ),
      deliveryId,
      deliveryCount: d.deliveryCount,
      ack: () => this.ack([deliveryId]),
      nack: (error?: string) => this.nack([deliveryId], error),
    };
  }
}

/** Messages buffered before the call is paused (each carries a batch of deliveries). */
const BUFFERED_MESSAGES = 64;
