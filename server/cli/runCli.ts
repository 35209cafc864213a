// `streamgate <command> [options]`: finds the command, parses its flags, runs
// it, and turns any failure into one line on stderr plus a documented exit code.
import { readFileSync } from "node:fs";
import { CliError, toCliError, UsageError } from "./cliError.js";
import { type Command, type CommandIo, commandHelp, parseFlags } from "./command.js";
import { commands } from "./commands/index.js";
import { ExitCode, exitCodeHelp } from "./exitCodes.js";

/** The root package's version (the package.json two levels up from sources, three from dist/). */
function version(): string {
  for (const rel of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "streamgate" && pkg.version) return pkg.version;
    } catch {
      // not at this depth
    }
  }
  return "unknown";
}

function rootHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    "Usage: streamgate <command> [options]",
    "",
    "Streamgate: gRPC event streaming over Redis Streams, wire-compatible with Kumiho's EventStream API.",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Run `streamgate <command> --help` for a command's options and examples.",
    "The server address comes from --address or STREAMGATE_ADDRESS (default 127.0.0.1:50051),",
    "the token from --token or STREAMGATE_TOKEN. NO_COLOR turns colours off.",
    "",
    exitCodeHelp,
    "",
  ].join("\n");
}

function findCommand(name: string): Command {
  const command = commands.find((c) => c.name === name);
  if (!command)
    throw new UsageError(`unknown command "${name}"; commands: ${commands.map((c) => c.name).join(", ")} (see streamgate --help)`);
  return command;
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  let command: Command | undefined;
  try {
    if (name === undefined) {
      io.stderr.write(rootHelp());
      return ExitCode.usage;
    }
    if (name === "--help" || name === "-h") {
      io.stdout.write(rootHelp());
      return ExitCode.ok;
    }
    if (name === "help") {
      io.stdout.write(rest[0] ? commandHelp(findCommand(rest[0])) : rootHelp());
      return ExitCode.ok;
    }
    if (name === "--version" || name === "-V") {
      io.stdout.write(`streamgate ${version()}\n`);
      return ExitCode.ok;
    }
    command = findCommand(name);
    if (command.runRaw && rest[0] !== "--help" && rest[0] !== "-h") return await command.runRaw(rest, io);
    if (command.runRaw) {
      io.stdout.write(commandHelp(command));
      return ExitCode.ok;
    }
    const values = parseFlags(command, rest);
    if (values.help) {
      io.stdout.write(commandHelp(command));
      return ExitCode.ok;
    }
    return await command.run(values, io);
  } catch (err) {
    const cli = err instanceof CliError ? err : toCliError(err, "");
    // One line, whatever happened; only STREAMGATE_DEBUG adds the stack of an unexpected failure.
    const hint = cli.exitCode === ExitCode.failure && !io.env.STREAMGATE_DEBUG ? " (STREAMGATE_DEBUG=1 shows the stack trace)" : "";
    io.stderr.write(`streamgate${command ? ` ${command.name}` : ""}: ${cli.message}${hint}\n`);
    if (cli.exitCode === ExitCode.failure && io.env.STREAMGATE_DEBUG) io.stderr.write(`${(cli.cause as Error)?.stack ?? cli.stack}\n`);
    return cli.exitCode;
  }
}
