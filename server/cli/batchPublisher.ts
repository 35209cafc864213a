// Sends events with PublishBatch for `streamgate publish` and `streamgate copy`,
// in order, in all-or-nothing batches that fit the server's limits: batches
// shrink to the limits the server names when it refuses one as too large (or
// larger than the tier's burst), a tier's publish rate is waited out as the
// server says, and an event the server refuses ends the run after the events
// before it are published. Each event carries its idempotency key from the
// start (the caller sets it before sizing), so the byte count is the server's.
import { setTimeout as sleep } from "node:timers/promises";
import { Code, type NewEvent, type StreamgateClient, StreamgateClientError } from "../../client-sdk/src/index.js";
import { CliError } from "./cliError.js";
import { ExitCode } from "./exitCodes.js";

/** One event to send: its size in a PublishBatch (batchEntryBytes, key included) and where it came from. */
export interface Outgoing<S> {
  event: NewEvent;
  size: number;
  /** Where the event came from (a line number, a source cursor): named in errors, handed back when it is published. */
  source: S;
}

/** How a {@link BatchPublisher} names events in its errors. */
export interface Wording<S> {
  /** An event by its source, e.g. "line 3". */
  name(source: S): string;
  /** Who refused it, e.g. "the server". */
  server: string;
  /** What did not happen from it on, e.g. "nothing from this line on was published". */
  rest: string;
}

/** Default byte budget of one PublishBatch: well under the server's default STREAMGATE_MAX_BATCH_BYTES (4 MiB). */
export const DEFAULT_BATCH_BYTES = 1_048_576;

/** The first event a batch was refused for: the server names it `events[i]` (INVALID_ARGUMENT). */
function refusedEvent(err: StreamgateClientError): { index: number; problem: string } | undefined {
  if (err.code !== Code.INVALID_ARGUMENT) return undefined;
  const m = /^events\[(\d+)\]: /.exec(err.message);
  return m ? { index: Number(m[1]), problem: err.message.slice(m[0].length) } : undefined;
}

/** A positive integer trailer (the server's batch limits), or undefined. */
function limitTrailer(err: StreamgateClientError, name: string): number | undefined {
  const n = Number(err.trailers[name]);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** Splits events (by their sizes) into runs [from, to) of at most `maxEvents` events and `maxBytes` bytes (a larger event goes alone). */
function split(items: readonly Outgoing<unknown>[], maxEvents: number, maxBytes: number): [number, number][] {
  const runs: [number, number][] = [];
  let from = 0;
  let bytes = 0;
  for (let i = 0; i < items.length; i++) {
    const size = (items[i] as Outgoing<unknown>).size;
    if (i > from && (i - from >= maxEvents || bytes + size > maxBytes)) {
      runs.push([from, i]);
      from = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (from < items.length) runs.push([from, items.length]);
  return runs;
}

/**
 * Publishes events in order through one client, adapting its batch limits to the server's.
 * Ctrl-C does not cut a send short: a batch in flight, or waiting out the publish rate, is
 * finished, so that a command can send what it has read before it exits.
 */
export class BatchPublisher<S> {
  /** Events published (acknowledged by the server) so far. */
  published = 0;
  /** Largest batch in events; shrinks to the server's limit or the tier's burst when it names them. */
  maxEvents: number;
  /** Largest batch in bytes; shrinks to the server's limit when it names it. */
  maxBytes: number;

  constructor(
    private readonly client: StreamgateClient,
    limits: { maxEvents: number; maxBytes: number },
    private readonly wording: Wording<S>,
    /** Called after each batch the server acknowledged, with its events in order. */
    private readonly onPublished: (batch: readonly Outgoing<S>[]) => void = () => {},
  ) {
    this.maxEvents = limits.maxEvents;
    this.maxBytes = limits.maxBytes;
  }

  /**
   * Publishes `items` in order, in batches that fit the limits. Throws a CliError when the server
   * refuses an event (exit code 6; the events before it are published) or an event is larger than
   * it takes in a batch (4), and the client's error for anything else.
   */
  async publish(items: readonly Outgoing<S>[]): Promise<void> {
    for (const [from, to] of split(items, this.maxEvents, this.maxBytes)) await this.send(items.slice(from, to));
  }

  // One all-or-nothing batch. A tier's publish rate: wait as the server says (retry-after-ms), and split a batch
  // larger than its burst. A batch over the server's size limits: split to fit. An event the server refuses:
  // publish the ones before it, then fail naming it.
  private async send(items: readonly Outgoing<S>[]): Promise<void> {
    for (;;) {
      try {
        await this.client.publishBatch(items.map((i) => i.event));
        this.published += items.length;
        this.onPublished(items);
        return;
      } catch (err) {
        if (!(err instanceof StreamgateClientError)) throw err;
        if (err.code === Code.RESOURCE_EXHAUSTED) {
          const burst = limitTrailer(err, "streamgate-max-batch");
          if (burst !== undefined && items.length > burst) {
            this.maxEvents = Math.min(this.maxEvents, burst);
            return this.publish(items);
          }
          const waitMs = Number(err.trailers["retry-after-ms"]);
          if (waitMs > 0) {
            await sleep(Math.min(waitMs, 60_000));
            continue;
          }
        }
        // Too large: over the server's batch limits (it names them), or even over its gRPC receive limit.
        const tooMany = err.code === Code.INVALID_ARGUMENT ? limitTrailer(err, "streamgate-max-batch-events") : undefined;
        const tooBig = err.code === Code.INVALID_ARGUMENT ? limitTrailer(err, "streamgate-max-batch-bytes") : undefined;
        const overReceiveLimit = err.code === Code.RESOURCE_EXHAUSTED && /^Received message larger than max/.test(err.message);
        if ((tooMany !== undefined || tooBig !== undefined || overReceiveLimit) && items.length > 1) {
          const total = items.reduce((n, i) => n + i.size, 0);
          this.maxEvents = Math.min(this.maxEvents, tooMany ?? this.maxEvents);
          this.maxBytes = Math.min(this.maxBytes, tooBig ?? this.maxBytes, overReceiveLimit ? Math.floor(total / 2) : this.maxBytes);
          let runs = split(items, this.maxEvents, this.maxBytes);
          // If the server still counts it as too large, halve it: every retry is smaller, down to one event.
          if (runs.length === 1)
            runs = [
              [0, items.length >> 1],
              [items.length >> 1, items.length],
            ];
          for (const [from, to] of runs) await this.send(items.slice(from, to));
          return;
        }
        const { name, server, rest } = this.wording;
        const refused = refusedEvent(err);
        const culprit = items[refused?.index ?? 0] as Outgoing<S>;
        if (refused && refused.index < items.length) {
          if (refused.index > 0) await this.send(items.slice(0, refused.index));
          throw new CliError(ExitCode.badInput, `${name(culprit.source)}: ${refused.problem} (refused by ${server}; ${rest})`, {
            cause: err,
          });
        }
        if (tooBig !== undefined || overReceiveLimit) {
          const limit = tooBig !== undefined ? ` (${tooBig} bytes)` : "";
          throw new CliError(
            ExitCode.rejected,
            `${name(culprit.source)}: the event is ${culprit.size} bytes, more than ${server} accepts in a batch${limit}; ${rest}`,
            { cause: err },
          );
        }
        throw err;
      }
    }
  }
}
