import { fstatSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, type NewEvent, type StreamgateClient, StreamgateClientError } from "../../../client-sdk/src/index.js";
import { batchEntryBytes } from "../../events/batchBytes.js";
import { CliError, toCliError, UsageError } from "../cliError.js";
import type { Command, CommandIo, FlagValues } from "../command.js";
import { positiveInt } from "../command.js";
import { type Connection, connect, connectionFrom } from "../connect.js";
import { ExitCode } from "../exitCodes.js";
import { interruptSignal } from "../interrupt.js";
import { BadLineError, lines, parseEventLine } from "../jsonLines.js";
import { Progress, rate } from "../progress.js";

const EVENT_FLAGS = ["routing-key", "kref", "author", "username", "detail", "correlation-id"];

function eventFromFlags(values: FlagValues): NewEvent {
  const routingKey = values["routing-key"];
  const kref = values.kref;
  if (typeof routingKey !== "string" || typeof kref !== "string") {
    throw new UsageError("publishing one event needs both --routing-key and --kref (or pass no event flags and JSON lines on stdin)");
  }
  const details: Record<string, string> = {};
  for (const pair of (values.detail as string[] | undefined) ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--detail must be key=value, got ${JSON.stringify(pair)}`);
    details[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return {
    routingKey,
    kref,
    details,
    ...(typeof values.author === "string" ? { author: values.author } : {}),
    ...(typeof values.username === "string" ? { username: values.username } : {}),
    ...(typeof values["correlation-id"] === "string" ? { correlationId: values["correlation-id"] } : {}),
  };
}

/** The input's size when stdin is a regular file (for a real progress bar), else undefined. */
function stdinSize(): number | undefined {
  try {
    const st = fstatSync(0);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

/** Default byte budget of one PublishBatch: well under the server's default STREAMGATE_MAX_BATCH_BYTES (4 MiB). */
const DEFAULT_BATCH_BYTES = 1_048_576;

/** The first event a batch was refused for: the server names it `events[i]` (INVALID_ARGUMENT). */
function refusedEvent(err: StreamgateClientError): { index: number; problem: string } | undefined {
  if (err.code !== Code.INVALID_ARGUMENT) return undefined;
  const m = /^events\[(\d+)\]: /.exec(err.message);
  return m ? { index: Number(m[1]), problem: err.message.slice(m[0].length) } : undefined;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** A positive integer trailer (the server's batch limits), or undefined. */
function limitTrailer(err: StreamgateClientError, name: string): number | undefined {
  const n = Number(err.trailers[name]);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** Splits events (by their sizes) into runs [from, to) of at most `maxEvents` events and `maxBytes` bytes (a larger event goes alone). */
function split(sizes: readonly number[], maxEvents: number, maxBytes: number): [number, number][] {
  const runs: [number, number][] = [];
  let from = 0;
  let bytes = 0;
  for (let i = 0; i < sizes.length; i++) {
    const size = sizes[i] as number;
    if (i > from && (i - from >= maxEvents || bytes + size > maxBytes)) {
      runs.push([from, i]);
      from = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (from < sizes.length) runs.push([from, sizes.length]);
  return runs;
}

async function publishStdin(client: StreamgateClient, connection: Connection, values: FlagValues, io: CommandIo): Promise<ExitCode> {
  // Both limits shrink to the server's when it refuses a batch as too large (or larger than the tier's burst).
  let maxEvents = positiveInt(values, "batch-size", 500);
  let maxBytes = positiveInt(values, "batch-bytes", DEFAULT_BATCH_BYTES);
  const quiet = values.quiet === true;
  const progress = (io.stderr.isTTY || values.progress === true) && !quiet ? new Progress(io.stderr, stdinSize()) : undefined;
  if (io.stdin.isTTY && !quiet)
    io.stderr.write("streamgate publish: reading JSON lines from stdin (Ctrl-D to finish, --help for the format)\n");
  const interrupt = interruptSignal();
  // Waiting for input must not outlast Ctrl-C: ending stdin ends the read loop.
  interrupt.signal.addEventListener("abort", () => io.stdin.destroy(), { once: true });
  const started = Date.now();
  let published = 0;
  let chunk: NewEvent[] = [];
  let chunkLines: number[] = [];
  let chunkSizes: number[] = [];
  let chunkBytes = 0;

  /** Sends events[from, to) in batches that fit the limits. */
  const sendRuns = async (events: NewEvent[], numbers: number[], sizes: number[]): Promise<void> => {
    for (const [from, to] of split(sizes, maxEvents, maxBytes)) {
      await send(events.slice(from, to), numbers.slice(from, to), sizes.slice(from, to));
    }
  };

  // One all-or-nothing batch. A tier's publish rate: wait as the server says (retry-after-ms), and split a batch
  // larger than its burst. A batch over the server's size limits: split to fit. An event the server refuses:
  // publish the ones before it, then fail naming its line.
  const send = async (events: NewEvent[], numbers: number[], sizes: number[]): Promise<void> => {
    for (;;) {
      try {
        await client.publishBatch(events);
        published += events.length;
        return;
      } catch (err) {
        if (!(err instanceof StreamgateClientError) || interrupt.signal.aborted) throw err;
        if (err.code === Code.RESOURCE_EXHAUSTED) {
          const burst = limitTrailer(err, "streamgate-max-batch");
          if (burst !== undefined && events.length > burst) {
            maxEvents = Math.min(maxEvents, burst);
            return sendRuns(events, numbers, sizes);
          }
          const waitMs = Number(err.trailers["retry-after-ms"]);
          if (waitMs > 0) {
            await sleep(Math.min(waitMs, 60_000), undefined, { signal: interrupt.signal }).catch(() => undefined);
            if (!interrupt.signal.aborted) continue;
          }
        }
        // Too large: over the server's batch limits (it names them), or even over its gRPC receive limit.
        const tooMany = err.code === Code.INVALID_ARGUMENT ? limitTrailer(err, "streamgate-max-batch-events") : undefined;
        const tooBig = err.code === Code.INVALID_ARGUMENT ? limitTrailer(err, "streamgate-max-batch-bytes") : undefined;
        const overReceiveLimit = err.code === Code.RESOURCE_EXHAUSTED && /^Received message larger than max/.test(err.message);
        if ((tooMany !== undefined || tooBig !== undefined || overReceiveLimit) && events.length > 1) {
          maxEvents = Math.min(maxEvents, tooMany ?? maxEvents);
          maxBytes = Math.min(maxBytes, tooBig ?? maxBytes, overReceiveLimit ? Math.floor(sum(sizes) / 2) : maxBytes);
          let runs = split(sizes, maxEvents, maxBytes);
          // If the server still counts it as too large, halve it: every retry is smaller, down to one event.
          if (runs.length === 1)
            runs = [
              [0, events.length >> 1],
              [events.length >> 1, events.length],
            ];
          for (const [from, to] of runs) await send(events.slice(from, to), numbers.slice(from, to), sizes.slice(from, to));
          return;
        }
        const refused = refusedEvent(err);
        if (refused && refused.index < events.length) {
          if (refused.index > 0) {
            const to = refused.index;
            await send(events.slice(0, to), numbers.slice(0, to), sizes.slice(0, to));
          }
          throw new CliError(
            ExitCode.badInput,
            `line ${numbers[refused.index]}: ${refused.problem} (refused by the server; nothing from this line on was published)`,
            { cause: err },
          );
        }
        if (tooBig !== undefined || overReceiveLimit) {
          const limit = tooBig !== undefined ? ` (${tooBig} bytes)` : "";
          throw new CliError(
            ExitCode.rejected,
            `line ${numbers[0]}: the event is ${sizes[0]} bytes, more than the server accepts in a batch${limit}; nothing from this line on was published`,
            { cause: err },
          );
        }
        throw err;
      }
    }
  };

  const flush = async () => {
    if (chunk.length === 0) return;
    await send(chunk, chunkLines, chunkSizes);
    chunk = [];
    chunkLines = [];
    chunkSizes = [];
    chunkBytes = 0;
  };

  let outcome: ExitCode = ExitCode.ok;
  let failure: unknown;
  try {
    for await (const { text, number, bytesRead } of lines(io.stdin)) {
      // Ctrl-C: the batch in flight has completed (all or nothing); stop before the next one.
      if (interrupt.signal.aborted) break;
      if (text.trim() === "") continue;
      const event = parseEventLine(text, number);
      const size = batchEntryBytes(event);
      if (chunk.length > 0 && chunkBytes + size > maxBytes) await flush();
      chunk.push(event);
      chunkLines.push(number);
      chunkSizes.push(size);
      chunkBytes += size;
      if (chunk.length >= maxEvents) await flush();
      progress?.update(published, bytesRead);
    }
    if (interrupt.signal.aborted) outcome = ExitCode.interrupted;
    else await flush();
  } catch (err) {
    // Everything before a bad line is published, nothing after it.
    if (
      interrupt.signal.aborted &&
      !(err instanceof BadLineError) &&
      !(err instanceof CliError) &&
      !(err instanceof StreamgateClientError)
    ) {
      outcome = ExitCode.interrupted; // stdin ended under the read loop
    } else if (err instanceof BadLineError) {
      try {
        await flush();
        failure = new CliError(ExitCode.badInput, `${err.message} (nothing from this line on was published)`);
      } catch (flushErr) {
        failure = flushErr;
      }
    } else failure = err;
  } finally {
    interrupt.dispose();
    progress?.clear();
  }
  const elapsed = Date.now() - started;
  // The summary tells what was published; after a failure only if something was (the error line says the rest).
  if (failure ? published > 0 : !quiet || outcome !== ExitCode.ok) {
    const what = `${published.toLocaleString("en-US")} event${published === 1 ? "" : "s"}`;
    const how = `in ${(elapsed / 1000).toFixed(2)} s (${rate(published, elapsed)} events/s)`;
    io.stderr.write(`streamgate publish: published ${what} ${how}${outcome === ExitCode.interrupted ? "; interrupted" : ""}\n`);
  }
  if (failure) throw toCliError(failure, connection.address);
  return outcome;
}

/** `streamgate publish`: one event from flags, or JSON lines from stdin in batches. */
export const publish: Command = {
  name: "publish",
  summary: "publish one event from flags, or many as JSON lines from stdin",
  usage: "[options]",
  description: [
    "With --routing-key and --kref, publishes one event and prints its cursor on stdout.",
    "With no event flags, reads JSON lines from stdin, one event per line:",
    '  {"routingKey": "item.created", "kref": "kref://film/shots/sh010.model", "author": "ci", "details": {"k": "v"}}',
    "and publishes them in order, in all-or-nothing batches (PublishBatch) of at most --batch-size events",
    "and --batch-bytes bytes (smaller still if the server says its limits are lower). Everything before the",
    "first invalid line (one that is not an event, or that the server refuses) is published, nothing after",
    "it (exit code 6). Other fields are ignored, so `streamgate tail --json` output can be published again.",
    "A progress line shows on a terminal (or with --progress); the count and rate go to stderr.",
  ].join("\n"),
  connects: true,
  flags: {
    "routing-key": { type: "string", short: "r", value: "<key>", description: 'routing key, e.g. "revision.created"' },
    kref: { type: "string", short: "k", value: "<kref>", description: 'kref, e.g. "kref://film/shots/sh010.model?r=3"' },
    author: { type: "string", value: "<name>", description: "who publishes the event" },
    username: { type: "string", value: "<name>", description: "on whose behalf" },
    detail: { type: "string", short: "d", multiple: true, value: "<key=value>", description: "a details entry (repeatable)" },
    "correlation-id": { type: "string", value: "<id>", description: "sets details.correlation_id" },
    "batch-size": { type: "string", value: "<n>", description: "events per PublishBatch when reading stdin (default 500)" },
    "batch-bytes": {
      type: "string",
      value: "<n>",
      description: "bytes per PublishBatch when reading stdin (default 1048576; the server's default limit is 4194304)",
    },
    progress: { type: "boolean", description: "show the progress line even when stderr is not a terminal" },
    quiet: { type: "boolean", short: "q", description: "no progress or summary on stderr" },
  },
  examples: [
    "streamgate publish -r revision.created -k 'kref://film/shots/sh010.model?r=3' -d status=approved",
    "streamgate publish < events.jsonl",
    "streamgate tail --json --from-beginning -n 1000 | streamgate publish -a staging:50051",
    `echo '{"routingKey":"item.created","kref":"kref://p/s/a.model"}' | streamgate publish`,
  ],
  async run(values, io) {
    const connection = connectionFrom(values, io.env);
    const single = EVENT_FLAGS.some((f) => values[f] !== undefined);
    const event = single ? eventFromFlags(values) : undefined;
    const client = connect(connection);
    try {
      if (!event) return await publishStdin(client, connection, values, io);
      const cursor = await client.publish(event).catch((err: unknown) => {
        // An event the server refuses as invalid is bad input (6), as on the stdin path.
        if (err instanceof StreamgateClientError && err.code === Code.INVALID_ARGUMENT) {
          throw new CliError(ExitCode.badInput, `the server refused the event: ${err.message}`, { cause: err });
        }
        throw toCliError(err, connection.address);
      });
      io.stdout.write(`${cursor}\n`);
      return ExitCode.ok;
    } finally {
      client.close();
    }
  },
};
