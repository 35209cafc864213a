// `npm start` (and `streamgate serve`, which calls serve()): validated config,
// Redis (REDIS_URL or an embedded redis-server child), the gRPC server, and a
// bounded graceful shutdown on SIGTERM/SIGINT.
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { startStreamgate } from "./app.js";
import { type Config, ConfigError, loadConfig } from "./config/loadConfig.js";
import { preflight } from "./config/preflight.js";
import { createLogger } from "./observability/logger.js";
import { type LocalRedis, RedisServerMissingError, startLocalRedis } from "./redis/localRedis.js";

/**
 * Starts the server from the environment (and STREAMGATE_CONFIG), with
 * `overrides` on top; resolves once it is listening. Exits the process with
 * code 2 on invalid configuration (checked before anything starts) or a
 * missing redis-server, with 1 when another Streamgate uses the data dir or
 * another start-up step fails, and with 0 after a graceful shutdown on
 * SIGTERM/SIGINT.
 */
export async function serve(overrides: Partial<Config> = {}): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env, overrides);
    // The whole configuration (tiers file, authentication) before anything starts.
    preflight(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`streamgate: invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);

  let embedded: LocalRedis | undefined;
  let redisUrl = config.redisUrl;
  if (!redisUrl) {
    try {
      embedded = await startLocalRedis({ dataDir: config.dataDir, appendOnly: true, log });
    } catch (err) {
      if (err instanceof RedisServerMissingError) {
        process.stderr.write(`streamgate: ${err.message}\n`);
        process.exit(2);
      }
      exitOnStartFailure(err); // e.g. another Streamgate using the data dir: one line naming it
    }
    redisUrl = embedded.url;
    log.info({ redis: redisUrl, dataDir: config.dataDir }, "started embedded redis-server (set REDIS_URL to use your own)");
    // No exit hook needed: redis-server's watchdog stops it when this process ends, however it ends.
  }

  // Start-up failures (Redis unreachable, address in use) end the process with one line, also under
  // `streamgate serve`; the embedded redis-server, if any, is stopped by its watchdog.
  const app = await startStreamgate({ config, log, redisUrl }).catch(exitOnStartFailure);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, graceMs: config.shutdownGraceMs, drainDelayMs: config.drainDelayMs }, "shutting down");
    const hardExit = setTimeout(
      () => {
        log.error("shutdown took too long; exiting");
        process.exit(1);
      },
      config.drainDelayMs + config.shutdownGraceMs + 5000,
    );
    hardExit.unref();
    await app.close();
    await embedded?.stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

// Run when this file is the entry point (npm start, npm run dev), not when the CLI imports serve().
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  serve().catch(exitOnStartFailure);
}

/**
 * One clear line and an exit code: 2 for configuration the operator must fix, 1 otherwise (a
 * StartError names the option involved: Redis unreachable at REDIS_URL, STREAMGATE_LISTEN in use).
 */
export function exitOnStartFailure(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`streamgate: invalid configuration: ${err.message}\n`);
    process.exit(2);
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`streamgate: failed to start: ${message.replace(/\s*\n\s*/g, "; ")}\n`);
  process.exit(1);
}
