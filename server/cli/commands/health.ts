import { StreamgateClientError } from "../../../client-sdk/src/index.js";
import { tidy, toCliError } from "../cliError.js";
import type { Command } from "../command.js";
import { positiveInt } from "../command.js";
import { connect, connectionFrom } from "../connect.js";
import { ExitCode } from "../exitCodes.js";

/**
 * `streamgate health`: is the server serving? A grpc.health.v1 Check with a
 * deadline (no credentials needed): SERVING only while the server reaches Redis
 * and is not draining.
 */
export const health: Command = {
  name: "health",
  summary: "check that the server is up and answering (exit code 0 or 3)",
  usage: "[options]",
  description: [
    "Asks the server's grpc.health.v1 service within --timeout: prints SERVING and exits 0, or prints",
    "NOT SERVING (unreachable, Redis down, or draining) and exits 3. Needs no token.",
  ].join("\n"),
  connects: true,
  flags: {
    timeout: { type: "string", short: "t", value: "<ms>", description: "deadline for the answer (default 5000)" },
    quiet: { type: "boolean", short: "q", description: "print nothing; use the exit code" },
  },
  examples: [
    "streamgate health",
    "streamgate health -a 10.0.0.5:50051 -t 1000 -q && echo up",
    "until streamgate health -q; do sleep 1; done",
  ],
  async run(values, io) {
    const connection = connectionFrom(values, io.env);
    const timeoutMs = positiveInt(values, "timeout", 5000);
    const client = connect(connection);
    const started = Date.now();
    try {
      const state = await client.health("", { timeoutMs });
      if (state !== "SERVING") {
        if (!values.quiet) io.stdout.write(`NOT SERVING ${connection.address}: ${state}\n`);
        return ExitCode.unavailable;
      }
      if (!values.quiet) io.stdout.write(`SERVING ${connection.address} (answered in ${Date.now() - started} ms)\n`);
      return ExitCode.ok;
    } catch (err) {
      const cli = toCliError(err, connection.address);
      if (cli.exitCode === ExitCode.unavailable && err instanceof StreamgateClientError) {
        if (!values.quiet) io.stdout.write(`NOT SERVING ${connection.address}: ${err.codeName}: ${tidy(err.message)}\n`);
        return ExitCode.unavailable;
      }
      throw cli;
    } finally {
      client.close();
    }
  },
};
