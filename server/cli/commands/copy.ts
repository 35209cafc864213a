// `streamgate copy`: events from one server (or tenant) to another, each
// exactly once however often the copy is interrupted and restarted. Two things
// make it so. Each copy is published with an idempotency key made of its source
// cursor and content (copyKey.ts), so sending a source event again stores
// nothing new within the destination's duplicate window. And the cursor file, where a restart
// continues from, is written only after the destination acknowledged the batch
// up to that cursor, at once (not coalesced), atomically: it may lag behind the
// destination by the one batch a kill interrupted (whose re-send the keys make
// harmless), but it never runs ahead of it, so no event is skipped.
import {
  type Event,
  type EventStreamOptions,
  type EventSubscription,
  type NewEvent,
  type ReconnectInfo,
  type ResumedInfo,
  StreamgateClientError,
} from "../../../client-sdk/src/index.js";
import { BatchPublisher, DEFAULT_BATCH_BYTES, type Outgoing, type Wording } from "../batchPublisher.js";
import { CliError, tidy, toCliError, UsageError } from "../cliError.js";
import type { Command, FlagValues } from "../command.js";
import { positiveInt } from "../command.js";
import { type Connection, connect, connectionFrom } from "../connect.js";
import { copyKey } from "../copyKey.js";
import { CursorFile } from "../cursorFile.js";
import { ExitCode } from "../exitCodes.js";
import { interruptSignal } from "../interrupt.js";
import { lingerFlag, lingerMs } from "../linger.js";
import { LingeringBatch } from "../lingeringBatch.js";
import { rate } from "../progress.js";
import { IDLE, TimedIterator } from "../timedIterator.js";

/** The source (--from, else --address/STREAMGATE_ADDRESS) or the destination (--to); a bad address names its flag. */
function endpoint(flag: "from" | "to", values: FlagValues, env: NodeJS.ProcessEnv): Connection {
  const address = flag === "from" ? (values.from ?? values.address) : values.to;
  const token = flag === "from" ? (values["from-token"] ?? values.token) : values["to-token"];
  try {
    // The destination never takes STREAMGATE_TOKEN: that is the source's token, and another server or tenant's is another.
    return connectionFrom({ address, token }, flag === "from" ? env : {});
  } catch (err) {
    const named = flag === "to" || typeof values.from === "string";
    if (err instanceof UsageError && named) throw new UsageError(err.message.replace(/^--address/, `--${flag}`));
    throw err;
  }
}

/** Where to start: after the saved cursor, else from the beginning (default) or live. */
function startPosition(values: FlagValues, saved: string | undefined): { options: EventStreamOptions; describe: string } {
  if (values["from-beginning"] === true && values.live === true) throw new UsageError("use at most one of --from-beginning and --live");
  if (saved) return { options: { cursor: saved }, describe: `after cursor ${saved}` };
  if (values.live === true) return { options: {}, describe: "from now on (--live)" };
  return { options: { fromBeginning: true }, describe: "from the beginning" };
}

/** The copy of a source event: the same routing key, kref, author, username and details (the destination stamps the rest). */
function copyOf(e: Event): NewEvent {
  const copy = { routingKey: e.routingKey, kref: e.kref.uri, author: e.author, username: e.username, details: e.details };
  return { ...copy, idempotencyKey: copyKey(e.cursor, copy) };
}

/** A failure of one side, said as such ("destination: ..."), with the exit code of its kind. */
function sideError(side: "source" | "destination", address: string, err: unknown): CliError {
  if (err instanceof CliError) return err;
  const cli = toCliError(err, address);
  if (!(err instanceof StreamgateClientError)) return cli;
  return new CliError(cli.exitCode, `${side}: ${cli.message}`, { cause: err });
}

function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** `streamgate copy`: copies events from a source to a destination, each exactly once across interruptions. */
export const copy: Command = {
  name: "copy",
  summary: "copy events to another server or tenant, each once, continuing after an interruption",
  usage: "--to <host:port> --cursor-file <path> [options]",
  description: [
    "Copies events from the source (--from, else --address/STREAMGATE_ADDRESS, with --from-token, else",
    "--token/STREAMGATE_TOKEN) to the destination (--to, with --to-token), in order, in batches (PublishBatch),",
    "then follows the source and copies new events as they come, until Ctrl-C or --count events. Each copy",
    "keeps the routing key, kref, author, username and details; the destination stamps the time, tenant",
    "and cursor. The cursor file holds the last source event the destination acknowledged; a restarted",
    "copy continues after it (without one: --from-beginning, everything retained, or --live).",
    "",
    "Interrupted at any moment (Ctrl-C, a crash, a kill) and started again with the same command, a copy",
    "ends with every source event in the destination exactly once, as long as the restart comes within the",
    "destination's duplicate window (STREAMGATE_DEDUP_WINDOW_MS, default 2 min): the file is written only",
    "after the destination acknowledged, so it never skips an event, and each copy carries the idempotency",
    "key made of its source cursor and content, so the one batch an interruption may leave acknowledged but unsaved is",
    "not stored again when it is re-sent. Restarted later than that, that last batch may be stored twice.",
    "",
    "Ctrl-C stops reading, sends the current batch, saves its cursor and exits with code 0. An event the",
    "destination refuses as invalid stops the copy with exit code 6, naming its source cursor (the events",
    "before it are copied and saved).",
  ].join("\n"),
  connects: true,
  flags: {
    from: {
      type: "string",
      value: "<host:port>",
      description: "source server (default: --address, $STREAMGATE_ADDRESS, else 127.0.0.1:50051)",
    },
    "from-token": { type: "string", value: "<token>", description: "source API key or JWT (default: --token, $STREAMGATE_TOKEN)" },
    to: { type: "string", value: "<host:port>", description: "destination server (required)" },
    "to-token": { type: "string", value: "<token>", description: "destination API key or JWT (default: none)" },
    "cursor-file": {
      type: "string",
      short: "f",
      value: "<path>",
      description: "where the last copied source cursor is kept (required; created if missing)",
    },
    "routing-key": {
      type: "string",
      short: "r",
      value: "<glob>",
      description: 'copy only events whose routing key matches, e.g. "revision.*"',
    },
    kref: { type: "string", short: "k", value: "<glob>", description: 'copy only events whose kref matches, e.g. "kref://film/**"' },
    "from-beginning": { type: "boolean", description: "without a saved cursor, copy everything retained first (the default)" },
    live: { type: "boolean", description: "without a saved cursor, copy only events published from now on" },
    count: { type: "string", short: "n", value: "<n>", description: "exit after copying n events" },
    "batch-size": { type: "string", value: "<n>", description: "events per PublishBatch (default 500)" },
    "linger-ms": lingerFlag,
    quiet: { type: "boolean", short: "q", description: "no banner, reconnect messages or summary on stderr" },
  },
  examples: [
    "streamgate copy --from prod.internal:50051 --to staging.internal:50051 --cursor-file prod-to-staging.cursor",
    "streamgate copy --to backup.internal:50051 --to-token sg_... -f backup.cursor -r 'revision.*' --live",
    "STREAMGATE_TOKEN=sg_... streamgate copy --to 127.0.0.1:50051 --to-token sg_... -f tenant-move.cursor -n 100000",
  ],
  async run(values, io) {
    if (typeof values.to !== "string") throw new UsageError("--to <host:port> is required: the destination server");
    const path = values["cursor-file"];
    if (typeof path !== "string") {
      throw new UsageError("--cursor-file <path> is required: where the last copied cursor is kept, for a restart to continue from");
    }
    const source = endpoint("from", values, io.env);
    const destination = endpoint("to", values, io.env);
    if (source.address === destination.address && source.token === destination.token) {
      throw new UsageError(`the source and the destination are the same (${source.address}, same token): each copy would be copied again`);
    }
    const count = positiveInt(values, "count", Number.POSITIVE_INFINITY);
    const batchSize = positiveInt(values, "batch-size", 500);
    const linger = lingerMs(values);
    const quiet = values.quiet === true;
    const cursorFile = new CursorFile(path);
    let saved = cursorFile.read();
    const { options, describe } = startPosition(values, saved);
    const note = (text: string) => {
      if (!quiet) io.stderr.write(`streamgate copy: ${text}\n`);
    };

    const from = connect(source);
    const to = connect(destination);
    const wording: Wording<string> = {
      name: (cursor) => `source event ${cursor}`,
      server: "the destination",
      rest: `nothing from this event on was copied; ${path} holds the cursor of the last event copied`,
    };
    const publisher = new BatchPublisher(to, { maxEvents: batchSize, maxBytes: DEFAULT_BATCH_BYTES }, wording, (batch) => {
      // Acknowledged: only now may the file move past these events (at once, so that a kill loses at most this batch).
      const last = (batch[batch.length - 1] as Outgoing<string>).source;
      cursorFile.write(last);
      saved = last;
    });
    const interrupt = interruptSignal();
    const started = Date.now();
    let sourceFailure: unknown;
    let failure: unknown;
    // Set when the source could not be reached at start: reported at once (a wrong address), as `tail` does.
    let unreachable: StreamgateClientError | undefined;
    // Set when the start position could not be saved (the cursor file cannot be written).
    let startFailure: unknown;
    let sub: EventSubscription | undefined;
    try {
      // The destination is checked first: a wrong address or token fails before anything is read.
      await to.getEventCapabilities({ timeoutMs: 10_000 }).catch((err: unknown) => {
        throw sideError("destination", destination.address, err);
      });
      sub = from.eventStream({
        routingKeyFilter: (values["routing-key"] as string | undefined) ?? "",
        krefFilter: (values.kref as string | undefined) ?? "",
        ...options,
        // No signal: Ctrl-C stops the reading below, then the subscription is closed.
      });
      const subscription = sub;
      let live = false;
      sub.on("reconnect", ({ attempt, delayMs, error }: ReconnectInfo) => {
        if (!live) {
          unreachable = error;
          subscription.close();
          return;
        }
        const why = `${error.codeName}: ${tidy(error.message)}`;
        if (attempt === 1) note(`source stream lost (${why}); reconnecting in ${duration(delayMs)}`);
        else note(`reconnect to the source failed (${why}); retrying in ${duration(delayMs)} (attempt ${attempt})`);
      });
      sub.on("resumed", ({ downtimeMs }: ResumedInfo) => note(`reconnected to the source after ${duration(downtimeMs)}`));
      sub.ready.then(
        () => {
          live = true;
          const filters = [values["routing-key"] && `routing key ${values["routing-key"]}`, values.kref && `kref ${values.kref}`].filter(
            Boolean,
          );
          const which = filters.length ? ` (${filters.join(", ")})` : "";
          note(`copying ${source.address} to ${destination.address}${which} ${describe}; Ctrl-C to stop`);
          // A live start is a position too: a restart continues from it and misses nothing published since.
          const start = subscription.lastCursor;
          if (!saved && start && publisher.published === 0) {
            try {
              cursorFile.write(start);
              saved = start;
            } catch (err) {
              // Cannot keep the position (e.g. the file's directory is read-only): stop, saying so.
              startFailure = err;
              subscription.close();
            }
          }
        },
        () => {},
      );

      const events = new TimedIterator(sub[Symbol.asyncIterator]());
      const batch = new LingeringBatch(publisher, linger);
      let taken = 0;
      try {
        while (!interrupt.signal.aborted && taken < count) {
          let next: Awaited<ReturnType<typeof events.next>>;
          try {
            next = await events.next(batch.due, interrupt.signal);
          } catch (err) {
            sourceFailure = err; // after the events received before it are copied
            break;
          }
          if (next === IDLE) {
            if (!interrupt.signal.aborted) await batch.flush(); // not full within --linger-ms: send what there is
            continue;
          }
          if (next.done) break;
          const e = next.value;
          if (!e.cursor) {
            sourceFailure = new CliError(
              ExitCode.rejected,
              "source: its events have no cursors (the tier has no cursor support); copy needs them to continue after an interruption",
            );
            break;
          }
          taken++;
          await batch.add(copyOf(e), e.cursor);
        }
        // Ctrl-C, --count, or the source failed: what was received is still copied.
        await batch.flush();
      } catch (err) {
        throw sideError("destination", destination.address, err);
      }
      if (startFailure) throw startFailure;
      if (unreachable) throw sideError("source", source.address, unreachable);
      if (sourceFailure) throw sideError("source", source.address, sourceFailure);
    } catch (err) {
      failure = err;
    } finally {
      sub?.close();
      from.close();
      to.close();
      interrupt.dispose();
    }
    const copied = publisher.published;
    if (failure ? copied > 0 : !quiet) {
      const elapsed = Date.now() - started;
      const what = `${copied.toLocaleString("en-US")} event${copied === 1 ? "" : "s"}`;
      const where = saved ? `; cursor saved in ${path}` : "";
      io.stderr.write(`streamgate copy: copied ${what} in ${(elapsed / 1000).toFixed(2)} s (${rate(copied, elapsed)} events/s)${where}\n`);
    }
    if (failure) throw failure instanceof CliError ? failure : toCliError(failure, destination.address);
    return ExitCode.ok;
  },
};
