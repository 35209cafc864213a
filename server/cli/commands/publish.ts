import { fstatSync } from "node:fs";
import { Code, IdempotencyKeys, type NewEvent, type StreamgateClient, StreamgateClientError } from "../../../client-sdk/src/index.js";
import { BatchPublisher, DEFAULT_BATCH_BYTES, type Wording } from "../batchPublisher.js";
import { CliError, toCliError, UsageError } from "../cliError.js";
import type { Command, CommandIo, FlagValues } from "../command.js";
import { positiveInt } from "../command.js";
import { type Connection, connect, connectionFrom } from "../connect.js";
import { copyKey } from "../copyKey.js";
import { ExitCode } from "../exitCodes.js";
import { interruptSignal } from "../interrupt.js";
import { BadLineError, type EventLine, parseEventLine } from "../jsonLines.js";
import { LineReader } from "../lineReader.js";
import { lingerFlag, lingerMs } from "../linger.js";
import { LingeringBatch } from "../lingeringBatch.js";
import { Progress, rate } from "../progress.js";
import { IDLE, TimedIterator } from "../timedIterator.js";

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

/** How publish names a stdin line in its errors. */
const lineWording: Wording<number> = {
  name: (line) => `line ${line}`,
  server: "the server",
  rest: "nothing from this line on was published",
};

/**
 * The line's idempotency key: its own `idempotencyKey`, else one made of its `cursor` and content
 * (a line of `tail --json`: publishing the same lines again, within the destination's duplicate
 * window, stores nothing twice, while different events made from one source line stay apart),
 * else one of this run's own.
 */
function keyFor(line: EventLine, keys: IdempotencyKeys): string {
  if (line.idempotencyKey) return line.idempotencyKey;
  if (line.cursor) return copyKey(line.cursor, line.event);
  return keys.next();
}

async function publishStdin(client: StreamgateClient, connection: Connection, values: FlagValues, io: CommandIo): Promise<ExitCode> {
  const linger = lingerMs(values);
  const quiet = values.quiet === true;
  const progress = (io.stderr.isTTY || values.progress === true) && !quiet ? new Progress(io.stderr, stdinSize()) : undefined;
  if (io.stdin.isTTY && !quiet)
    io.stderr.write("streamgate publish: reading JSON lines from stdin (Ctrl-D to finish, --help for the format)\n");
  const publisher = new BatchPublisher(
    client,
    { maxEvents: positiveInt(values, "batch-size", 500), maxBytes: positiveInt(values, "batch-bytes", DEFAULT_BATCH_BYTES) },
    lineWording,
  );
  const keys = new IdempotencyKeys();
  const reader = new LineReader(io.stdin);
  const lines = new TimedIterator(reader);
  const interrupt = interruptSignal();
  // Ctrl-C ends the input at what has been received; those lines are still published before the exit.
  interrupt.signal.addEventListener("abort", () => reader.stop(), { once: true });
  const started = Date.now();
  const batch = new LingeringBatch(publisher, linger);
  const flush = () => batch.flush();

  let outcome: ExitCode = ExitCode.ok;
  let failure: unknown;
  try {
    for (;;) {
      const next = await lines.next(batch.due);
      if (next === IDLE) {
        // No full batch within --linger-ms of its first line (a live pipe): send what there is.
        await flush();
        continue;
      }
      if (next.done) break;
      const { text, number } = next.value;
      if (text.trim() === "") continue;
      const line = parseEventLine(text, number);
      // The key counts in the batch's bytes (the server counts it), so it is set before sizing.
      await batch.add({ ...line.event, idempotencyKey: keyFor(line, keys) }, number);
      progress?.update(publisher.published, reader.bytesRead);
    }
    await flush();
    if (interrupt.signal.aborted) outcome = ExitCode.interrupted;
  } catch (err) {
    // Everything before a bad line is published, nothing after it.
    if (err instanceof BadLineError) {
      try {
        await flush();
        failure = new CliError(ExitCode.badInput, `${err.message} (nothing from this line on was published)`);
      } catch (flushErr) {
        failure = flushErr;
      }
    } else failure = err;
  } finally {
    interrupt.dispose();
    reader.stop();
    progress?.clear();
  }
  const published = publisher.published;
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
    "and --batch-bytes bytes (smaller still if the server says its limits are lower). A batch that is not",
    "full is sent --linger-ms after its first line, so a live pipe (`./producer | streamgate publish`) is",
    "published as it goes. Everything before the first invalid line (one that is not an event, or that the",
    "server refuses) is published, nothing after it (exit code 6). Ctrl-C stops reading, publishes the",
    "lines already read, and exits with code 130 (a second Ctrl-C exits at once).",
    'Each event gets an idempotency key: the line\'s "idempotencyKey", else one made of its "cursor" (as',
    "`streamgate tail --json` prints) and content, else one of the run's own. The server stores an event once per key",
    "within its duplicate window (STREAMGATE_DEDUP_WINDOW_MS, default 2 min), so publishing the same tail",
    "output again then stores nothing twice. Other fields are ignored. To copy events from one server or",
    "tenant to another, across interruptions, use `streamgate copy`.",
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
    "linger-ms": lingerFlag,
    progress: { type: "boolean", description: "show the progress line even when stderr is not a terminal" },
    quiet: { type: "boolean", short: "q", description: "no progress or summary on stderr" },
  },
  examples: [
    "streamgate publish -r revision.created -k 'kref://film/shots/sh010.model?r=3' -d status=approved",
    "streamgate publish < events.jsonl",
    "./producer | streamgate publish --linger-ms 200",
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
