import { Code, StreamgateClientError } from "../../client-sdk/src/index.js";
import { ExitCode } from "./exitCodes.js";

/** A failure reported as one line on stderr and an exit code; never a stack trace. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A bad command line (exit code 2). */
export class UsageError extends CliError {
  override name = "UsageError";
  constructor(message: string) {
    super(ExitCode.usage, message);
  }
}

/**
 * grpc-js appends a "Resolution note:" to connection failures, usually empty; the SDK may append
 * "(gave up after n reconnect attempts)" after it. An empty note goes, wherever it is.
 */
export function tidy(message: string): string {
  return message.replace(/\s*Resolution note:\s*(?=\(|$)/, (note: string, at: number) => (at + note.length < message.length ? " " : ""));
}

/** Maps a client error to a one-line message and the exit code scripts can rely on. */
export function fromClientError(err: StreamgateClientError, address: string): CliError {
  switch (err.code) {
    case Code.UNAVAILABLE:
    case Code.DEADLINE_EXCEEDED:
      return new CliError(ExitCode.unavailable, `cannot reach the server at ${address} (${err.codeName}): ${tidy(err.message)}`, {
        cause: err,
      });
    case Code.UNAUTHENTICATED:
    case Code.PERMISSION_DENIED:
      return new CliError(ExitCode.unauthorized, `${err.codeName}: ${err.message}`, { cause: err });
    default:
      return new CliError(ExitCode.rejected, `${err.codeName}: ${err.message}`, { cause: err });
  }
}

/** Any error as a CliError: client errors mapped, anything else kept as an unexpected failure. */
export function toCliError(err: unknown, address: string): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof StreamgateClientError) return fromClientError(err, address);
  return new CliError(ExitCode.failure, `unexpected error: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}
