import { redactRedisUrl } from "./redisUrl.js";

/**
 * A start-up failure an operator fixes through one option (Redis unreachable,
 * listen address taken): its message names the option and the value in use.
 * Reported as one line; the server exits with status 1.
 */
export class StartError extends Error {
  override name = "StartError";
  constructor(
    /** The environment variable to look at, e.g. REDIS_URL. */
    readonly option: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Redis did not answer at start: names the address (password hidden), REDIS_URL
 * when it came from there (`fromOption`), and the connection error.
 */
export function redisConnectFailed(redisUrl: string, fromOption: boolean, cause: Error): StartError {
  const where = `${redactRedisUrl(redisUrl)}${fromOption ? " (REDIS_URL)" : ""}`;
  return new StartError("REDIS_URL", `cannot connect to Redis at ${where}: ${oneLine(cause.message)}`, { cause });
}

/** A listener could not bind: names the option and address. */
export function listenFailed(option: string, address: string, cause: Error): StartError {
  return new StartError(option, `cannot listen on ${address} (${option}): ${oneLine(cause.message)}`, { cause });
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, "; ").trim();
}
