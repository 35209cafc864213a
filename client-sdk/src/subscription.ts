import type { ClientReadableStream, Metadata } from "@grpc/grpc-js";
import { abortReason, Code, fellBehindRetention, fromGrpcError, isRetryable, StreamgateClientError } from "./errors.js";
import { type Event, fromWire } from "./event.js";
import type { Event__Output } from "./generated/kumiho/Event.js";
import type { EventStreamRequest } from "./generated/kumiho/EventStreamRequest.js";
import { PausingQueue } from "./pausingQueue.js";
import { backoffDelay, type ResumeOptions, type ResumePolicy, resumePolicy } from "./resume.js";

/**
 * Response header a Streamgate server sets when it registers a subscription:
 * every event strictly after this cursor will be delivered.
 */
export const START_CURSOR_HEADER = "streamgate-start-cursor";

/** Opens the underlying server-streaming call for `request`; each message carries one or more events. */
export type OpenStream = (request: EventStreamRequest) => {
  call: ClientReadableStream<unknown>;
  unpack: (message: unknown) => Event__Output[];
};

/** Passed to `reconnect` listeners when a broken stream is about to be reopened. */
export interface ReconnectInfo {
  /** 1 for the first attempt after a break, then 2, 3, ... until an event arrives again. */
  attempt: number;
  /** How long the subscription waits before this attempt, in ms. */
  delayMs: number;
  /** Why the stream broke (or why the previous attempt failed). */
  error: StreamgateClientError;
  /** Where the stream will resume: strictly after this cursor (undefined: the original start position). */
  cursor: string | undefined;
}

/** Passed to `resumed` listeners when the server has registered the subscription again after a break. */
export interface ResumedInfo {
  /** Attempts it took. */
  attempts: number;
  /** Time from the break to the new registration, in ms. */
  downtimeMs: number;
  /** The stream continues strictly after this cursor (undefined: the original start position). */
  cursor: string | undefined;
}

/** Listener signatures of {@link EventSubscription.on}. */
export interface SubscriptionEventMap {
  /** The stream broke (or a reconnect attempt failed) and will be reopened after `info.delayMs`. */
  reconnect: (info: ReconnectInfo) => void;
  /** The server registered the subscription again after a break. */
  resumed: (info: ResumedInfo) => void;
}

/** Options of an {@link EventSubscription}, set through `client.eventStream(...)`. */
export interface SubscriptionOptions {
  /** Aborting ends the loop with the signal's reason and cancels the call. */
  signal?: AbortSignal | undefined;
  /** Reconnection policy, or false to end the loop with the first error. */
  resume?: ResumeOptions | false | undefined;
  /** Called once when the subscription ends (the client uses it to forget it). */
  onEnd?: ((subscription: EventSubscription) => void) | undefined;
}

/** How a subscription ended. */
interface Outcome {
  error?: StreamgateClientError;
  aborted?: boolean;
}

// Flow control: past HIGH_WATER events received but not yet taken by the loop,
// the call is paused (grpc-js then stops reading, and HTTP/2 flow control
// pushes back on the server); it resumes once the loop has caught up to LOW_WATER.
const HIGH_WATER = 1024;
const LOW_WATER = 256;

/**
 * A subscription: an `AsyncIterable<Event>` for `for await`, and a handle.
 *
 * The call starts at once (before iteration), so {@link ready} tells when the
 * server has registered it. When the stream breaks with a retryable error
 * (server restart or drain, network loss), the subscription reconnects on its
 * own, with exponential backoff and full jitter, strictly after the last event
 * the loop received: the loop sees neither a gap nor a duplicate. Errors that
 * retrying cannot fix are thrown by the loop at once; a subscriber that fell
 * behind the retention window (RESOURCE_EXHAUSTED with trailer
 * `streamgate-reason: slow-consumer`) is not resumed either, since resuming
 * would fail with OUT_OF_RANGE: its loop gets every event that did arrive,
 * then the error. `break`, {@link close} or an abort cancels the call and any
 * pending reconnect; nothing is left running.
 */
export class EventSubscription implements AsyncIterable<Event>, AsyncDisposable {
  /**
   * Where the loop stands in the stream: the cursor of the last event it
   * received, or, before the first event, the position the subscription
   * started from when known (the `cursor` option, or the position the server
   * reported at registration). Persist it and pass it as `cursor` later to
   * continue with exactly the events not seen yet. Undefined before
   * registration for live starts, and for `fromBeginning`/`fromTimestamp`
   * until the first event.
   */
  lastCursor: string | undefined;
  /**
   * Resolves once the server has registered the subscription (events published
   * from then on are delivered). Rejects if the subscription ends first: with
   * the error, the abort reason, or a CANCELLED error after {@link close}.
   */
  readonly ready: Promise<void>;
  /**
   * Resolves when the subscription has ended: with the error that ended it, or
   * undefined when it was closed, aborted, broken out of, or ended by the
   * server. Never rejects.
   */
  readonly closed: Promise<StreamgateClientError | undefined>;

  private readonly policy: ResumePolicy | false;
  private readonly signal: AbortSignal | undefined;
  private readonly onEnd: ((subscription: EventSubscription) => void) | undefined;
  private readonly listeners: { [K in keyof SubscriptionEventMap]: Set<SubscriptionEventMap[K]> } = {
    reconnect: new Set(),
    resumed: new Set(),
  };
  private call: ClientReadableStream<unknown> | undefined;
  /** Events received but not yet taken by the loop. */
  private readonly queue = new PausingQueue<Event>(HIGH_WATER, LOW_WATER);
  private timer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private brokeAt: number | undefined;
  private registered = false;
  /** Whether the loop has been given an event (from any call). */
  private handedOut = false;
  private iterated = false;
  private outcome: Outcome | undefined;
  private resolveReady!: () => void;
  private rejectReady!: (reason: unknown) => void;
  private resolveClosed!: (err: StreamgateClientError | undefined) => void;

  /**
   * Subscriptions are made by `client.eventStream(...)`; this constructor is
   * its implementation. Throws TypeError on invalid resume options.
   */
  constructor(
    private readonly open: OpenStream,
    private readonly request: EventStreamRequest,
    options: SubscriptionOptions = {},
  ) {
    this.policy = resumePolicy(options.resume);
    this.signal = options.signal;
    this.onEnd = options.onEnd;
    this.lastCursor = request.fromCursor ?? undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {}); // also reported by the loop and `closed`
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    if (this.signal?.aborted) {
      this.finish({ aborted: true });
      return;
    }
    this.signal?.addEventListener("abort", this.onAbort, { once: true });
    this.connect();
  }

  /**
   * Adds a listener: `reconnect` fires when a broken stream is about to be
   * reopened (log the outage, or persist {@link lastCursor}); `resumed` fires
   * once the server has registered it again. A listener that throws has its
   * exception reported as uncaught, like an EventTarget listener.
   */
  on<K extends keyof SubscriptionEventMap>(type: K, listener: SubscriptionEventMap[K]): this {
    this.listeners[type].add(listener);
    return this;
  }

  /** Removes a listener added with {@link on}. */
  off<K extends keyof SubscriptionEventMap>(type: K, listener: SubscriptionEventMap[K]): this {
    this.listeners[type].delete(listener);
    return this;
  }

  /** Ends the subscription: cancels the call and any pending reconnect; the loop ends without error. Idempotent. */
  close(): void {
    this.finish({});
  }

  /** Closes the subscription and waits until it has ended (`await using sub = client.eventStream(...)`). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.closed;
  }

  /**
   * The events, in stream order. A subscription can be iterated once; a second
   * iteration throws. Leaving the loop (`break`, `return`, an exception) closes it.
   */
  [Symbol.asyncIterator](): AsyncIterator<Event> {
    if (this.iterated) throw new Error("this subscription is already being iterated; open another with client.eventStream()");
    this.iterated = true;
    const events = this.events();
    // A generator that never started ignores return(); closing here covers that case too.
    return {
      next: () => events.next(),
      return: (value?: unknown) => {
        this.close();
        return events.return(value as undefined);
      },
      throw: (err?: unknown) => events.throw(err),
    };
  }

  private async *events(): AsyncGenerator<Event, void, undefined> {
    try {
      for (;;) {
        const event = this.queue.shift();
        if (event) {
          if (event.cursor) this.lastCursor = event.cursor;
          this.handedOut = true;
          yield event;
          continue;
        }
        if (this.outcome) break;
        await this.queue.wait();
      }
      const outcome = this.outcome as Outcome;
      if (outcome.aborted && this.signal) throw abortReason(this.signal);
      if (outcome.error) throw outcome.error;
    } finally {
      this.close();
    }
  }

  /** The request for the next call: the original one, or a resume strictly after {@link lastCursor}. */
  private requestNow(): EventStreamRequest {
    if (this.lastCursor === undefined) return this.request;
    return { routingKeyFilter: this.request.routingKeyFilter, krefFilter: this.request.krefFilter, fromCursor: this.lastCursor };
  }

  private connect(): void {
    const { call, unpack } = this.open(this.requestNow());
    this.call = call;
    let registeredAt: number | undefined;
    let progressed = false;
    call.on("metadata", (headers: Metadata) => {
      if (this.call !== call) return;
      registeredAt = Date.now();
      const start = headers.get(START_CURSOR_HEADER)[0];
      // Nothing from this call has been queued yet, and the queue of an earlier call was dropped.
      if (typeof start === "string" && start !== "" && this.lastCursor === undefined) this.lastCursor = start;
      this.onRegistered();
    });
    call.on("data", (message: unknown) => {
      if (this.call !== call) return;
      progressed = true;
      this.attempts = 0;
      for (const wire of unpack(message)) this.queue.push(fromWire(wire), call);
    });
    call.on("error", (err: unknown) => {
      if (this.call !== call) return;
      // A connection that stayed up for a while counts as progress: a quiet stream
      // broken by occasional restarts never exhausts maxAttempts.
      const stayedUp = registeredAt !== undefined && this.policy && Date.now() - registeredAt >= this.policy.maxDelayMs;
      if (progressed || stayedUp) this.attempts = 0;
      this.onBreak(fromGrpcError(err));
    });
    // The server ended the stream with OK: everything it sent is queued; the loop drains it, then ends.
    call.on("end", () => {
      if (this.call === call) this.finish({}, false);
    });
  }

  private onRegistered(): void {
    if (!this.registered) {
      this.registered = true;
      this.resolveReady();
    }
    if (this.brokeAt !== undefined) {
      const info: ResumedInfo = { attempts: this.attempts, downtimeMs: Date.now() - this.brokeAt, cursor: this.lastCursor };
      this.brokeAt = undefined;
      this.emit("resumed", info);
    }
  }

  private onBreak(error: StreamgateClientError): void {
    this.detach();
    if (fellBehindRetention(error)) {
      // Events after the last delivered one were trimmed before it got them: a resume would get OUT_OF_RANGE.
      // What did arrive is an unbroken run, so the loop gets all of it before the error.
      const why =
        "not resumed: retention removed events this subscription had not received, so resuming would fail with OUT_OF_RANGE; " +
        "to continue past the gap, open a new subscription (live, or fromBeginning for everything still retained)";
      this.finish({ error: new StreamgateClientError(error.code, `${error.message} (${why})`, error.trailers, { cause: error }) }, false);
      return;
    }
    // Events received but not yet taken by the loop come again after lastCursor.
    this.queue.clear();
    if (!this.policy || !isRetryable(error)) {
      this.finish({ error });
      return;
    }
    if (this.registered && this.lastCursor === undefined && (this.handedOut || isLive(this.request))) {
      // Without a cursor (a tier without cursor support, or a server that sends no start cursor) a new
      // call would skip what was published meanwhile, or repeat a replay: say so instead of hiding it.
      const why = "not resumed: the server gave no cursor to resume from without a gap or a duplicate (e.g. a tier without cursor support)";
      this.finish({ error: new StreamgateClientError(error.code, `${error.message} (${why})`, error.trailers, { cause: error }) });
      return;
    }
    if (this.attempts >= this.policy.maxAttempts) {
      const gaveUp =
        this.attempts === 0
          ? error
          : new StreamgateClientError(error.code, `${error.message} (gave up after ${this.attempts} reconnect attempts)`, error.trailers, {
              cause: error,
            });
      this.finish({ error: gaveUp });
      return;
    }
    this.attempts++;
    this.brokeAt ??= Date.now();
    const delayMs = backoffDelay(this.attempts, this.policy);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        this.connect();
      } catch (err) {
        this.finish({ error: fromGrpcError(err) }); // e.g. the channel was closed under us
      }
    }, delayMs);
    this.emit("reconnect", { attempt: this.attempts, delayMs, error, cursor: this.lastCursor });
  }

  /** Forgets the current call and cancels it (a no-op if it already ended). */
  private detach(): void {
    const call = this.call;
    if (!call) return;
    this.call = undefined;
    for (const name of ["metadata", "data", "error", "end"]) call.removeAllListeners(name);
    call.on("error", () => {}); // the CANCELLED status of our own cancel
    call.cancel();
  }

  private readonly onAbort = (): void => {
    this.finish({ aborted: true });
  };

  /** Ends the subscription once; `drop` discards events the loop has not taken yet. */
  private finish(outcome: Outcome, drop = true): void {
    if (this.outcome) return;
    this.outcome = outcome;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.detach();
    if (drop) this.queue.clear();
    this.signal?.removeEventListener("abort", this.onAbort);
    if (!this.registered) {
      this.rejectReady(
        outcome.error ??
          (outcome.aborted && this.signal
            ? abortReason(this.signal)
            : new StreamgateClientError(Code.CANCELLED, "the subscription was closed before the server registered it")),
      );
    }
    this.resolveClosed(outcome.error);
    this.queue.wake();
    this.onEnd?.(this);
  }

  private emit<K extends keyof SubscriptionEventMap>(type: K, info: Parameters<SubscriptionEventMap[K]>[0]): void {
    for (const listener of [...this.listeners[type]]) {
      try {
        (listener as (info: unknown) => void)(info);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}

/** A request that starts at "now" (no cursor, no replay). */
function isLive(req: EventStreamRequest): boolean {
  return !req.fromCursor && !req.cursor && !req.fromBeginning && req.fromTimestamp === undefined;
}
