import {
  Code,
  type EventStreamOptions,
  type ReconnectInfo,
  type ResumedInfo,
  type StreamgateClientError,
} from "../../../client-sdk/src/index.js";
import { CliError, tidy, toCliError, UsageError } from "../cliError.js";
import { painter } from "../colors.js";
import type { Command, FlagValues } from "../command.js";
import { positiveInt } from "../command.js";
import { connect, connectionFrom } from "../connect.js";
import { CursorFile } from "../cursorFile.js";
import { ExitCode } from "../exitCodes.js";
import { eventJson, eventLine } from "../formatEvent.js";
import { interruptSignal } from "../interrupt.js";

/** Where to start, from --cursor, the cursor file, --from-beginning and --from-timestamp. */
function startPosition(values: FlagValues, cursorFile: CursorFile | undefined): { options: EventStreamOptions; describe: string } {
  const chosen = ["cursor", "from-beginning", "from-timestamp"].filter((f) => values[f] !== undefined && values[f] !== false);
  if (chosen.length > 1)
    throw new UsageError(
      `use at most one of --cursor, --from-beginning and --from-timestamp (got ${chosen.map((f) => `--${f}`).join(", ")})`,
    );
  if (typeof values.cursor === "string") return { options: { cursor: values.cursor }, describe: `after cursor ${values.cursor}` };
  const saved = cursorFile?.read();
  if (saved) return { options: { cursor: saved }, describe: `after cursor ${saved} (from ${cursorFile?.path})` };
  if (values["from-beginning"]) return { options: { fromBeginning: true }, describe: "from the beginning" };
  if (typeof values["from-timestamp"] === "string") {
    const ts = values["from-timestamp"];
    if (Number.isNaN(Date.parse(ts)))
      throw new UsageError(`--from-timestamp must be an ISO-8601 time such as 2026-01-31T12:00:00Z, got ${JSON.stringify(ts)}`);
    return { options: { fromTimestamp: ts }, describe: `from ${ts}` };
  }
  return { options: {}, describe: "live" };
}

function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** `streamgate tail`: follows the stream, one line (or JSON object) per event on stdout. */
export const tail: Command = {
  name: "tail",
  summary: "follow the event stream, one line or JSON object per event",
  usage: "[options]",
  description: [
    "Follows the event stream and prints each event: a readable line, or with --json one JSON object per",
    "line on stdout (banners and logs go to stderr). Reconnects on its own after a server restart or a",
    "network cut, continuing after the last printed event. With --cursor-file, the cursor of the last",
    "printed event is kept in a file, so a restarted tail continues where the last one stopped (the file",
    "wins over --from-beginning/--from-timestamp, which then only apply to the first run). Ctrl-C stops",
    "cleanly (exit code 0). A server that cannot be reached at start is an error (exit code 3, at once)",
    "unless --retry is given, which keeps trying as after a lost connection (up to --max-attempts).",
  ].join("\n"),
  connects: true,
  flags: {
    "routing-key": {
      type: "string",
      short: "r",
      value: "<glob>",
      description: 'routing-key filter, e.g. "revision.*" or "item.#,asset.*"',
    },
    kref: { type: "string", short: "k", value: "<glob>", description: 'kref filter, e.g. "kref://film/**/*.model"' },
    "from-beginning": { type: "boolean", description: "replay everything retained first" },
    "from-timestamp": { type: "string", value: "<time>", description: "replay from this ISO-8601 time first" },
    cursor: { type: "string", short: "c", value: "<cursor>", description: "continue strictly after this cursor" },
    "cursor-file": {
      type: "string",
      short: "f",
      value: "<path>",
      description: "read the start cursor from, and keep the last printed cursor in, this file",
    },
    json: { type: "boolean", short: "j", description: "one JSON object per line on stdout" },
    count: { type: "string", short: "n", value: "<n>", description: "exit after printing n events" },
    "max-attempts": { type: "string", value: "<n>", description: "give up after n reconnect attempts in a row (default 20)" },
    retry: { type: "boolean", description: "keep trying when the server cannot be reached at start (default: exit 3 at once)" },
    quiet: { type: "boolean", short: "q", description: "no banner or reconnect messages on stderr" },
  },
  examples: [
    "streamgate tail",
    "streamgate tail -r 'revision.*' -k 'kref://film/**'",
    "streamgate tail --json --from-beginning -n 100 > events.jsonl",
    "streamgate tail --json -f consumer.cursor | ./handle-events",
    "streamgate tail --from-timestamp 2026-01-31T12:00:00Z -a streamgate.internal:50051",
    "streamgate tail --retry --max-attempts 100 -f worker.cursor",
  ],
  async run(values, io) {
    const connection = connectionFrom(values, io.env);
    const cursorFile = typeof values["cursor-file"] === "string" ? new CursorFile(values["cursor-file"]) : undefined;
    const { options, describe } = startPosition(values, cursorFile);
    const count = positiveInt(values, "count", Number.POSITIVE_INFINITY);
    const maxAttempts = values["max-attempts"] === "0" ? 0 : positiveInt(values, "max-attempts", 20);
    const json = values.json === true;
    const quiet = values.quiet === true;
    const paint = painter(io.stdout, io.env);
    const note = (text: string) => {
      if (!quiet) io.stderr.write(`streamgate tail: ${text}\n`);
    };

    const interrupt = interruptSignal();
    // A closed stdout (e.g. `| head`) ends the tail like Ctrl-C does.
    const onStdoutError = (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") interrupt.trigger();
    };
    io.stdout.on("error", onStdoutError);
    const client = connect(connection);
    let printed = 0;
    // Set when the first connection failed: a typo'd address or a server that is down should not take
    // 20 reconnect attempts (about 40 s) to report, so without --retry the tail stops at the first failure.
    let unreachable: StreamgateClientError | undefined;
    try {
      const sub = client.eventStream({
        routingKeyFilter: (values["routing-key"] as string | undefined) ?? "",
        krefFilter: (values.kref as string | undefined) ?? "",
        ...options,
        signal: interrupt.signal,
        resume: { maxAttempts },
      });
      let live = false;
      sub.on("reconnect", ({ attempt, delayMs, error }: ReconnectInfo) => {
        if (!live && values.retry !== true) {
          unreachable = error;
          sub.close();
          return;
        }
        const why = `${error.codeName}: ${tidy(error.message)}`;
        const of = Number.isFinite(maxAttempts) ? ` of ${maxAttempts}` : "";
        if (attempt === 1) note(`stream lost (${why}); reconnecting in ${duration(delayMs)}`);
        else note(`reconnect failed (${why}); retrying in ${duration(delayMs)} (attempt ${attempt}${of})`);
      });
      sub.on("resumed", ({ downtimeMs, cursor }: ResumedInfo) => {
        note(`reconnected after ${duration(downtimeMs)}; continuing ${cursor ? `after cursor ${cursor}` : "live"}`);
      });
      sub.ready.then(
        () => {
          live = true;
          const filters = [values["routing-key"] && `routing key ${values["routing-key"]}`, values.kref && `kref ${values.kref}`].filter(
            Boolean,
          );
          note(`following ${connection.address}${filters.length ? ` (${filters.join(", ")})` : ""} ${describe}; Ctrl-C to stop`);
          // Before the first event, keep the start position, so a restart right away misses nothing.
          if (cursorFile && sub.lastCursor && !options.cursor) cursorFile.save(sub.lastCursor);
        },
        () => {},
      );
      for await (const event of sub) {
        io.stdout.write(`${json ? eventJson(event) : eventLine(event, paint)}\n`);
        printed++;
        if (event.cursor) cursorFile?.save(event.cursor);
        if (printed >= count) break;
      }
      if (unreachable) {
        const hint = unreachable.code === Code.UNAVAILABLE ? " (--retry keeps trying)" : "";
        const err = toCliError(unreachable, connection.address);
        throw new CliError(err.exitCode, `${err.message}${hint}`, { cause: unreachable });
      }
    } catch (err) {
      if (!interrupt.signal.aborted) throw toCliError(err, connection.address);
    } finally {
      cursorFile?.flush();
      interrupt.dispose();
      io.stdout.off("error", onStdoutError);
      client.close();
    }
    note(`${printed} event${printed === 1 ? "" : "s"}${cursorFile ? `; cursor saved in ${cursorFile.path}` : ""}`);
    return ExitCode.ok;
  },
};
