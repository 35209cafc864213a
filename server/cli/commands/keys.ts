import type { Command } from "../command.js";
import { ExitCode } from "../exitCodes.js";

/** `streamgate keys ...`: API key management straight against REDIS_URL (see keysCommand.ts). */
export const keys: Command = {
  name: "keys",
  summary: "manage API keys in Redis: create, list, revoke, set-tier",
  description: "Creates, lists, revokes API keys and changes tenants' tiers, directly in the Redis at REDIS_URL.",
  usage: "<create|list|revoke|set-tier> [options]",
  flags: {},
  connects: false,
  examples: [
    "streamgate keys create --tenant acme --tier creator --json",
    "streamgate keys list --tenant acme",
    "streamgate keys revoke <id>",
    "streamgate keys set-tier <id> studio",
  ],
  async run() {
    return ExitCode.usage; // runRaw handles everything
  },
  async runRaw(argv, io) {
    const { runKeysCommand } = await import("../keysCommand.js");
    return runKeysCommand(
      argv,
      io.env,
      (t) => io.stdout.write(t),
      (t) => io.stderr.write(t),
    );
  },
};
