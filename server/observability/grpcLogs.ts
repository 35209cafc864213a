// grpc-js logs some problems itself, through its own logger, with what it got:
// a metadata value it cannot represent is printed whole ("Failed to add
// metadata entry authorization: Bearer sg_... é"), credentials included, past
// the redaction of our own logs. Its log lines go through pino instead, with
// every value that may be a credential taken out.
import { format } from "node:util";
import { logVerbosity, setLogger, setLogVerbosity } from "@grpc/grpc-js";
import type { Logger } from "./logger.js";

const SECRETS: [RegExp, string][] = [
  // grpc-js's "Failed to add metadata entry <key>: <values>. <reason quoting the value again>...":
  // the key is enough to act on (and the call is refused, naming it: rpc/invalidMetadata.ts).
  [/(Failed to add metadata entry [^:]+:).*/gs, "$1 [value redacted]: not printable ASCII"],
  [/Bearer\s+\S+/gi, "Bearer [redacted]"],
  [/\bsg_[A-Za-z0-9_-]{8,}/g, "sg_[redacted]"],
  [/\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g, "[redacted JWT]"],
];

/** `text` with anything that looks like a credential (bearer values, API keys, JWTs) replaced. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRETS) out = out.replace(pattern, replacement);
  return out;
}

/** Sends grpc-js's own log lines (errors only, as grpc-js does by default) to `log`, redacted. */
export function routeGrpcLogs(log: Logger): void {
  const write =
    (level: "warn" | "info" | "debug") =>
    (message?: unknown, ...rest: unknown[]) =>
      log[level]({ source: "grpc-js" }, redactSecrets(format(message, ...rest)));
  setLogger({ error: write("warn"), info: write("info"), debug: write("debug") });
  setLogVerbosity(logVerbosity.ERROR);
}
