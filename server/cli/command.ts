// What a CLI command is: its flags (parsed with node:util parseArgs), its help
// text, and a run function returning an exit code. Each command lives in
// commands/<name>.ts and is listed in commands/index.ts.
import { parseArgs } from "node:util";
import { UsageError } from "./cliError.js";
import type { ExitCode } from "./exitCodes.js";

/** One flag of a command. */
export interface Flag {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** Placeholder shown in help, e.g. "<glob>". */
  value?: string;
  description: string;
}

/** The parsed flags: strings, booleans or (multiple) string lists. */
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** The process's streams and environment as a command sees them. */
export interface CommandIo {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

/** A `streamgate <name>` command. */
export interface Command {
  name: string;
  /** One line for `streamgate --help`. */
  summary: string;
  /** What the command does, for its --help (a few lines). */
  description: string;
  /** Usage line after "streamgate <name>", e.g. "[options]". */
  usage: string;
  flags: Record<string, Flag>;
  /** Adds --address and --token. */
  connects: boolean;
  /** Takes positional arguments (a subcommand and its operands), found in the parsed values under "_". */
  positionals?: boolean;
  examples: string[];
  run(values: FlagValues, io: CommandIo): Promise<ExitCode>;
  /** For commands with subcommands of their own: gets the raw arguments instead of parsed flags (and handles --help itself). */
  runRaw?(argv: string[], io: CommandIo): Promise<number>;
}

/** Flags every command that talks to a server takes. */
export const connectionFlags: Record<string, Flag> = {
  address: {
    type: "string",
    short: "a",
    value: "<host:port>",
    description: "server address (default: $STREAMGATE_ADDRESS, else 127.0.0.1:50051)",
  },
  token: { type: "string", value: "<token>", description: "API key or JWT (default: $STREAMGATE_TOKEN)" },
};

const helpFlag: Record<string, Flag> = { help: { type: "boolean", short: "h", description: "show this help" } };

/** Every flag a command accepts, including the common ones. */
export function allFlags(command: Command): Record<string, Flag> {
  return { ...command.flags, ...(command.connects ? connectionFlags : {}), ...helpFlag };
}

/** Parses argv for `command`; unknown options, positionals and missing values are usage errors. */
export function parseFlags(command: Command, args: string[]): FlagValues {
  const options = Object.fromEntries(
    Object.entries(allFlags(command)).map(([name, f]) => [
      name,
      { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) },
    ]),
  );
  try {
    const parsed = parseArgs({ args, options, strict: true, allowPositionals: command.positionals === true });
    return { ...(parsed.values as FlagValues), ...(command.positionals ? { _: parsed.positionals } : {}) };
  } catch (err) {
    throw new UsageError(`${describeParseError(err as Error & { code?: string })} (see streamgate ${command.name} --help)`);
  }
}

function describeParseError(err: Error & { code?: string }): string {
  const quoted = /'([^']+)'/.exec(err.message)?.[1];
  switch (err.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${quoted ?? ""}`.trim();
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument ${quoted ?? ""}`.trim();
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return err.message.replace(/\.$/, "").replace(/^Option /, "option ");
    default:
      return err.message;
  }
}

function flagLines(flags: Record<string, Flag>): string[] {
  const left = Object.entries(flags).map(([name, f]) => `${f.short ? `-${f.short}, ` : "    "}--${name}${f.value ? ` ${f.value}` : ""}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return Object.values(flags).map((f, i) => `  ${(left[i] as string).padEnd(width)}${f.description}`);
}

/** The text of `streamgate <name> --help`. */
export function commandHelp(command: Command): string {
  const lines = [`Usage: streamgate ${command.name} ${command.usage}`, "", command.description, "", "Options:"];
  lines.push(...flagLines({ ...command.flags, ...helpFlag }));
  if (command.connects) lines.push("", "Connection:", ...flagLines(connectionFlags));
  lines.push("", "Examples:", ...command.examples.map((e) => `  ${e}`));
  return `${lines.join("\n")}\n`;
}

/** A string flag as a positive integer, or a usage error naming it. */
export function positiveInt(values: FlagValues, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}
