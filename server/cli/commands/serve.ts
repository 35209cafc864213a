import { options } from "../../config/options.js";
import type { Command } from "../command.js";
import { ExitCode } from "../exitCodes.js";

const envTable = Object.values(options)
  .map((o) => `  ${o.env.padEnd(32)}${o.default === undefined ? "" : `(default ${o.default}) `}${o.description}`)
  .join("\n");

/** `streamgate serve`: runs the server, exactly as `npm start` does. */
export const serve: Command = {
  name: "serve",
  summary: "run the server (same as npm start)",
  usage: "[options]",
  description: [
    "Runs the Streamgate server, as `npm start` does: configuration from the environment (and the JSON",
    "file named by STREAMGATE_CONFIG), Redis from REDIS_URL or an embedded redis-server child. Logs go to",
    "stdout as JSON lines. SIGTERM or Ctrl-C stops it gracefully. Invalid configuration exits with code 2.",
    "",
    "Environment:",
    envTable,
  ].join("\n"),
  connects: false,
  flags: {
    listen: { type: "string", short: "l", value: "<host:port>", description: "listen address (overrides STREAMGATE_LISTEN)" },
    config: { type: "string", value: "<file>", description: "JSON config file (sets STREAMGATE_CONFIG)" },
  },
  examples: [
    "streamgate serve",
    "streamgate serve --listen 0.0.0.0:50051",
    "REDIS_URL=redis://redis:6379 STREAMGATE_LOG_LEVEL=debug streamgate serve",
  ],
  async run(values, io) {
    if (typeof values.config === "string") io.env.STREAMGATE_CONFIG = values.config;
    // Keeps running (and owns the process's signals) until SIGTERM/SIGINT; serve() exits the process then.
    const { serve: runServer } = await import("../../main.js"); // loaded only here: other commands start faster
    await runServer(typeof values.listen === "string" ? { listen: values.listen } : {});
    return ExitCode.ok;
  },
};
