import { fstatSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, type NewEvent, type StreamgateClient, StreamgateClientError } from "../../../client-sdk/src/index.js";
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

/** A batch the server refused names `events[i]`; report the input line instead. */
function withLineNumber(err: unknown, firstLine: number[]): unknown {
  if (!(err instanceof StreamgateClientError) || err.code !== Code.INVALID_ARGUMENT) return err;
  const m = /^events\[(\d+)\]: /.exec(err.message);
  if (!m) return err;
  const line = firstLine[Number(m[1])];
  return new StreamgateClientError(err.code, `line ${line}: ${err.message.slice(m[0].length)}`, err.trailers, { cause: err });
}

async function publishStdin(client: StreamgateClient, connection: Connection, values: FlagValues, io: CommandIo): Promise<ExitCode> {
  const batchSize = positiveInt(values, "batch-size", 500);
  const quiet = values.quiet === true;
  const progress = io.stderr.isTTY && !quiet ? new Progress(io.stderr, stdinSize()) : undefined;
  if (io.stdin.isTTY && !quiet)
    io.stderr.write("streamgate publish: reading JSON lines from stdin (Ctrl-D to finish, --help for the format)\n");
  const interrupt = interruptSignal();
  // Waiting for input must not outlast Ctrl-C: ending stdin ends the read loop.
  interrupt.signal.addEventListener("abort", () => io.stdin.destroy(), { once: true });
  const started = Date.now();
  let published = 0;
  let chunk: NewEvent[] = [];
  let chunkLines: number[] = [];

  // A tier's publish rate: wait as the server says (retry-after-ms), and split a batch larger than its burst.
  const send = async (events: NewEvent[], numbers: number[]): Promise<void> => {
    for (;;) {
      try {
        await client.publishBatch(events);
        return;
      } catch (err) {
        const e = err as StreamgateClientError;
        if (e.code === Code.RESOURCE_EXHAUSTED && !interrupt.signal.aborted) {
          const maxBatch = Number(e.trailers["streamgate-max-batch"]);
          if (maxBatch > 0 && events.length > maxBatch) {
            for (let i = 0; i < events.length; i += maxBatch) await send(events.slice(i, i + maxBatch), numbers.slice(i, i + maxBatch));
            return;
          }
          const waitMs = Number(e.trailers["retry-after-ms"]);
          if (waitMs > 0) {
            await sleep(Math.min(waitMs, 60_000), undefined, { signal: interrupt.signal }).catch(() => undefined);
            if (!interrupt.signal.aborted) continue;
          }
        }
        throw withLineNumber(err, numbers);
      }
    }
  };

  const flush = async () => {
    if (chunk.length === 0) return;
    await send(chunk, chunkLines);
    published += chunk.length;
    chunk = [];
    chunkLines = [];
  };

  let outcome: ExitCode = ExitCode.ok;
  let failure: unknown;
  try {
    for await (const { text, number, bytesRead } of lines(io.stdin)) {
      // Ctrl-C: the batch in flight has completed (all or nothing); stop before the next one.
      if (interrupt.signal.aborted) break;
      if (text.trim() === "") continue;
      chunk.push(parseEventLine(text, number));
      chunkLines.push(number);
      if (chunk.length >= batchSize) await flush();
      progress?.update(published, bytesRead);
    }
    if (interrupt.signal.aborted) outcome = ExitCode.interrupted;
    else await flush();
  } catch (err) {
    // Everything before a bad line is published, nothing after it.
    if (interrupt.signal.aborted && !(err instanceof BadLineError) && !(err instanceof StreamgateClientError)) {
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
    "and publishes them in order, in all-or-nothing batches (PublishBatch). Everything before the first",
    "invalid line is published, nothing after it. Other fields are ignored, so `streamgate tail --json`",
    "output can be published again. A progress line shows on a terminal; the count and rate go to stderr.",
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
        throw toCliError(err, connection.address);
      });
      io.stdout.write(`${cursor}\n`);
      return ExitCode.ok;
    } finally {
      client.close();
    }
  },
};
