// Child process: a real Streamgate server (auth none, enterprise tier, metrics
// off) over the bench's Redis, so its CPU and memory are measured on their own.
import { type Streamgate, startStreamgate } from "../../server/app.js";
import { loadConfig } from "../../server/config/loadConfig.js";
import { createLogger } from "../../server/observability/logger.js";
import { serveParent } from "../lib/child.js";
import { memoryHandlers, profilerHandlers } from "./profiler.js";

let app: Streamgate | undefined;

serveParent({
  ...profilerHandlers,
  ...memoryHandlers,
  async start(args: { redisUrl: string; keyPrefix: string; overrides?: Record<string, unknown> }) {
    // STREAMGATE_* variables of the bench's environment apply (e.g. to try a setting); the bench's own win.
    const config = loadConfig(process.env, {
      listen: "127.0.0.1:0",
      metricsListen: "off",
      logLevel: "warn",
      keyPrefix: args.keyPrefix,
      ...(args.overrides ?? {}),
    });
    app = await startStreamgate({ config, log: createLogger(config.logLevel), redisUrl: args.redisUrl });
    return { address: app.address };
  },
  subscribers() {
    return app?.hub.subscriberCount ?? 0;
  },
  async stop() {
    await app?.close(1000);
    return true;
  },
});
