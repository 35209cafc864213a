import { type DestinationStream, pino } from "pino";

export type Logger = pino.Logger;

/**
 * Field paths censored wherever they appear, as a second line of defence:
 * request logs never include metadata, but a stray `log.info({ metadata })`
 * or `{ token }` must not put a credential in the logs.
 */
const REDACT_PATHS = [
  "authorization",
  "*.authorization",
  "headers.authorization",
  "metadata",
  "*.metadata",
  "token",
  "*.token",
  "apiKey",
  "*.apiKey",
  "password",
  "*.password",
];

/** Structured JSON logs on stdout (or `destination`). Secrets never go in log fields. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: "streamgate" },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
  };
  return destination ? pino(options, destination) : pino(options);
}
