import { pino } from "pino";

export type Logger = pino.Logger;

/** Structured JSON logs on stdout. Secrets never go in log fields. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "streamgate" }, timestamp: pino.stdTimeFunctions.isoTime });
}
