import type { ClientReadableStream } from "@grpc/grpc-js";
import { abortReason, fromGrpcError, type StreamgateClientError } from "./errors.js";
import { type Event, fromWire } from "./event.js";
import type { Event__Output } from "./generated/kumiho/Event.js";

/** Opens the underlying server-streaming call; each message carries one or more events. */
export type OpenStream = () => { call: ClientReadableStream<unknown>; unpack: (message: unknown) => Event__Output[] };

/**
 * A live subscription: an `AsyncIterable<Event>` for `for await`, and a handle.
 * The call starts at once (before iteration), so `ready` tells when the server
 * has registered it. `break`, `close()` or an abort cancels the call on the server.
 */
export class EventSubscription implements AsyncIterable<Event>, AsyncDisposable {
  /** Cursor of the last event the loop received; persist it to resume later. */
  lastCursor: string | undefined;
  /** Resolves once the server has registered the subscription (events published from then on are delivered). */
  readonly ready: Promise<void>;
  /** Resolves when the subscription has ended: with the error that ended it, or undefined. Never rejects. */
  readonly closed: Promise<StreamgateClientError | undefined>;

  private readonly call: ClientReadableStream<unknown>;
  private readonly unpack: (message: unknown) => Event__Output[];
  private iterated = false;
  /** The call's final error, if it ended with one (grpc-js ends the readable before emitting it). */
  private finalError: unknown;
  private readonly ended: Promise<void>;
  private closedByUser = false;
  private settle!: (err: StreamgateClientError | undefined) => void;

  constructor(
    open: OpenStream,
    private readonly signal?: AbortSignal,
  ) {
    ({ call: this.call, unpack: this.unpack } = open());
    this.closed = new Promise((res) => {
      this.settle = res;
    });
    this.ready = new Promise<void>((res, rej) => {
      this.call.once("metadata", () => res());
      this.call.once("error", (err) => rej(this.signal?.aborted ? abortReason(this.signal) : fromGrpcError(err)));
      this.call.once("end", () => res());
    });
    this.ready.catch(() => {}); // observed through the iterator or `closed` too
    this.call.on("status", (s: { code: number }) => {
      if (s.code === 0 || this.closedByUser || this.signal?.aborted) this.settle(undefined);
    });
    this.ended = new Promise((res) => this.call.once("status", () => res()));
    this.call.on("error", (err) => {
      this.finalError = err;
      this.settle(this.closedByUser || this.signal?.aborted ? undefined : fromGrpcError(err));
    });
    if (signal) {
      if (signal.aborted) this.call.cancel();
      else signal.addEventListener("abort", () => this.call.cancel(), { once: true });
    }
  }

  /** Ends the subscription and cancels the call on the server. Idempotent. */
  close(): void {
    this.closedByUser = true;
    this.call.cancel();
    this.settle(undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.closed;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Event, void, undefined> {
    if (this.iterated) throw new Error("this subscription is already being iterated; open another with eventStream()");
    this.iterated = true;
    try {
      for await (const message of this.call) {
        for (const wire of this.unpack(message)) {
          const event = fromWire(wire);
          if (event.cursor) this.lastCursor = event.cursor;
          yield event;
        }
      }
      // The readable ended: wait for the status, which says whether that was an error.
      await this.ended;
      if (this.finalError !== undefined) throw this.finalError;
    } catch (err) {
      if (this.signal?.aborted) throw abortReason(this.signal);
      if (this.closedByUser) return;
      throw fromGrpcError(err);
    } finally {
      this.closedByUser ||= true;
      this.call.cancel();
      this.settle(undefined);
    }
    if (this.signal?.aborted) throw abortReason(this.signal);
  }
}
