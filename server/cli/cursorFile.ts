// The cursor file of `streamgate tail --cursor-file` and `streamgate copy`:
// read at start to continue where the last run stopped, rewritten as events are
// handled. Writes replace the file atomically (write a temp file, fsync it, then
// rename), so neither a kill nor a power cut leaves half a cursor or an empty
// file (which would read as "no cursor" and start over). tail's saves are
// coalesced to one per WRITE_INTERVAL_MS and flushed at exit, so after a hard
// kill the file may lag (a restart then repeats a few events) but never runs
// ahead of what was printed; copy writes each cursor at once (write()), right
// after the destination acknowledged its batch.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { CliError, UsageError } from "./cliError.js";
import { ExitCode } from "./exitCodes.js";

const WRITE_INTERVAL_MS = 100;
// A cursor as servers issue them: "<ms>-<seq>.<epoch>", or the older "<ms>-<seq>".
const CURSOR = /^\d{1,15}-\d{1,20}(\.[0-9a-z]{1,32})?$/;

/** A file holding one cursor: where a command stopped, so that its next run continues from there. */
export class CursorFile {
  private pending: string | undefined;
  private written: string | undefined;
  private lastWrite = 0;
  private timer: NodeJS.Timeout | undefined;
  private failure: unknown;

  constructor(readonly path: string) {}

  /** The saved cursor, or undefined when the file does not exist or is empty. */
  read(): string | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8").trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new CliError(ExitCode.failure, `cannot read cursor file ${this.path}: ${(err as Error).message}`);
    }
    if (text === "") return undefined;
    if (!CURSOR.test(text))
      throw new UsageError(`cursor file ${this.path} does not hold a cursor (got ${JSON.stringify(text.slice(0, 40))})`);
    this.written = text;
    return text;
  }

  /** Records `cursor`; the file is rewritten at once or within WRITE_INTERVAL_MS. */
  save(cursor: string): void {
    if (this.failure) throw this.failure; // a deferred write failed
    this.pending = cursor;
    const wait = this.lastWrite + WRITE_INTERVAL_MS - Date.now();
    if (wait <= 0) this.flush();
    else {
      this.timer ??= setTimeout(() => {
        try {
          this.flush();
        } catch (err) {
          this.failure = err;
        }
      }, wait);
    }
  }

  /** Writes `cursor` now, not coalesced: when this returns, the file holds it (and any pending save is dropped). */
  write(cursor: string): void {
    if (this.failure) throw this.failure;
    this.pending = cursor;
    this.flush();
  }

  /** Writes the latest cursor now (if it changed) and cancels any pending write. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const cursor = this.pending;
    if (cursor === undefined || cursor === this.written) return;
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      const fd = openSync(tmp, "w");
      try {
        writeSync(fd, `${cursor}\n`);
        // On disk before the rename makes it the file: else a power cut could leave the new name empty.
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
    } catch (err) {
      throw new CliError(ExitCode.failure, `cannot write cursor file ${this.path}: ${(err as Error).message}`);
    }
    this.written = cursor;
    this.lastWrite = Date.now();
  }
}
