import { toCliError } from "../cliError.js";
import { type Command, positiveInt } from "../command.js";
import { connect, connectionFrom } from "../connect.js";
import { ExitCode } from "../exitCodes.js";

function limit(n: number, unit: string): string {
  if (n < 0) return "unlimited";
  return `${n.toLocaleString("en-US")}${unit}`;
}

/** `streamgate caps`: the caller's tier and what it allows (GetEventCapabilities). */
export const caps: Command = {
  name: "caps",
  summary: "show what your tier allows (GetEventCapabilities)",
  usage: "[options]",
  description: "Shows the capabilities the server grants your token: tier, replay, cursors, consumer groups, retention.",
  connects: true,
  flags: {
    json: { type: "boolean", short: "j", description: "print them as one JSON object" },
    timeout: { type: "string", value: "<ms>", description: "give up after this long (default 10000)" },
  },
  examples: [
    "streamgate caps",
    "streamgate caps --json | jq .tier",
    "STREAMGATE_TOKEN=sg_... streamgate caps -a streamgate.internal:50051",
  ],
  async run(values, io) {
    const connection = connectionFrom(values, io.env);
    const timeoutMs = positiveInt(values, "timeout", 10_000);
    const client = connect(connection);
    try {
      const c = await client.getEventCapabilities({ timeoutMs }).catch((err: unknown) => {
        throw toCliError(err, connection.address);
      });
      if (values.json) {
        io.stdout.write(`${JSON.stringify(c)}\n`);
      } else {
        const rows: [string, string][] = [
          ["tier", c.tier],
          ["replay", c.supportsReplay ? "yes" : "no"],
          ["cursors", c.supportsCursor ? "yes" : "no"],
          ["consumer groups", c.supportsConsumerGroups ? "yes" : "no"],
          ["retention", c.maxRetentionHours === 0 ? "none" : limit(c.maxRetentionHours, " h")],
          ["buffer", limit(c.maxBufferSize, " events")],
        ];
        io.stdout.write(rows.map(([k, v]) => `${k.padEnd(16)}${v}\n`).join(""));
      }
      return ExitCode.ok;
    } finally {
      client.close();
    }
  },
};
