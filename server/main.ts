// `npm start`: validated config, Redis (REDIS_URL or an embedded redis-server
// child), the gRPC server, and a bounded graceful shutdown on SIGTERM/SIGINT.
import { startStreamgate } from "./app.js";
import { ConfigError, loadConfig } from "./config/loadConfig.js";
import { createLogger } from "./observability/logger.js";
import { type LocalRedis, RedisServerMissingError, startLocalRedis } from "./redis/localRedis.js";

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
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
      embedded = await startLocalRedis({ dataDir: config.dataDir, appendOnly: true });
    } catch (err) {
      if (err instanceof RedisServerMissingError) {
        process.stderr.write(`streamgate: ${err.message}\n`);
        process.exit(2);
      }
      throw err;
    }
    redisUrl = embedded.url;
    log.info({ redis: redisUrl, dataDir: config.dataDir }, "started embedded redis-server (set REDIS_URL to use your own)");
    process.once("exit", () => embedded?.process.kill("SIGTERM"));
  }

  const app = await startStreamgate({ config, log, redisUrl });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, graceMs: config.shutdownGraceMs }, "shutting down");
    const hardExit = setTimeout(() => {
      log.error("shutdown took too long; exiting");
      process.exit(1);
    }, config.shutdownGraceMs + 5000);
    hardExit.unref();
    await app.close();
    await embedded?.stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`streamgate: invalid configuration: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`streamgate: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
