// Every Redis connection the server opens, and why each has the options it has.
// One home for them: a wait that is bounded on one connection and not on
// another is how a server ends up stuck behind a paused Redis.
//
// - main: reads, admin data, scripts that are safe to run twice. Every command
//   is bounded by STREAMGATE_REDIS_TIMEOUT_MS (while Redis is paused, stalled or
//   restarting, callers get UNAVAILABLE within the bound instead of waiting for
//   as long as Redis is stuck); ioredis re-sends what was in flight when the
//   connection broke, which is harmless for these commands.
// - writer (writer.ts): appends. Never re-sent, never queued while disconnected.
// - blocking: a duplicate of main per blocking reader (shared feeds, group
//   members), whose bound leaves room for the longest BLOCK it issues.
import { Redis } from "ioredis";
import { type SgRedis, withCommands } from "./commands.js";

/** Opens (lazily: call connect()) the main connection to `url`. */
export function mainConnection(url: string, commandTimeoutMs: number): SgRedis {
  return withCommands(
    new Redis(url, {
      connectionName: "streamgate",
      enableAutoPipelining: true,
      lazyConnect: true,
      commandTimeout: commandTimeoutMs,
      // Commands issued while reconnecting wait in the offline queue, each still bounded by the
      // command timeout; after a few failed reconnects the queue is failed at once.
      maxRetriesPerRequest: 2,
      retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
    }),
  );
}

/**
 * A duplicate of `main` for blocking reads (XREAD/XREADGROUP BLOCK up to `longestBlockMs`):
 * its commands are bounded by the block plus main's command timeout.
 */
export function blockingConnection(main: Redis, connectionName: string, longestBlockMs: number): Redis {
  const bound = main.options.commandTimeout;
  return main.duplicate({ connectionName, commandTimeout: bound === undefined ? undefined : longestBlockMs + bound });
}
