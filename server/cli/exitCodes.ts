/**
 * The CLI's exit codes, stable for scripts. `streamgate --help` and the
 * README list them.
 */
export const ExitCode = {
  /** Success (tail: also after Ctrl-C or --count events). */
  ok: 0,
  /** An unexpected failure (a bug: please report it). */
  failure: 1,
  /** Bad command line: unknown command or option, missing or invalid value; invalid server configuration (serve). */
  usage: 2,
  /** The server could not be reached or did not answer in time (health: not serving). */
  unavailable: 3,
  /** The server refused the request (invalid argument, cursor out of range, ...). */
  rejected: 4,
  /** The server refused the credentials (UNAUTHENTICATED, PERMISSION_DENIED). */
  unauthorized: 5,
  /** Invalid input data (publish: a stdin line that is not an event, or an event the server refused as invalid). */
  badInput: 6,
  /** Interrupted by Ctrl-C before finishing (publish). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The table printed by `streamgate --help`. */
export const exitCodeHelp = `Exit codes:
  0    success (tail, copy: also after Ctrl-C or --count events)
  1    unexpected error
  2    bad command line (unknown command or option, invalid value)
  3    server unreachable or not answering in time
  4    server refused the request (e.g. invalid filter, cursor out of range)
  5    server refused the credentials (UNAUTHENTICATED, PERMISSION_DENIED)
  6    invalid input data (publish: a stdin line that is not an event, or that the server refused;
       copy: a source event the destination refused)
  130  interrupted by Ctrl-C before finishing (publish)`;
