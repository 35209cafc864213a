// The cursor file of `streamgate tail --cursor-file`: read at start to continue
// where the last run stopped, rewritten as events are printed. Writes replace
// the file atomically (write a temp file, then rename), so a crash never leaves
// half a cursor; they are coalesced to one per WRITE_INTERVAL_MS and flushed
// at exit, so after a hard kill the file may lag (a restart then repeats a few
// events) but never runs ahead of what was printed.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { CliError, UsageError } from "./cliError.js";
import { ExitCode } from "./exitCodes.js";

const WRITE_INTERVAL_MS = 100;
// A cursor as servers issue them: "<ms>-<seq>.<epoch>", or the older "<ms>-<seq>".
const CURSOR = /^\d{1,15}-\d{1,20}(\.[0-9a-z]{1,32})?$/;

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

  /** Writes the latest cursor now (if it changed) and cancels any pending write. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const cursor = this.pending;
    if (cursor === undefined || cursor === this.written) return;
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, `${cursor}\n`);
      renameSync(tmp, this.path);
    } catch (err) {
      throw new CliError(ExitCode.failure, `cannot write cursor file ${this.path}: ${(err as Error).message}`);
    }
    this.written = cursor;
    this.lastWrite = Date.now();
  }
}
