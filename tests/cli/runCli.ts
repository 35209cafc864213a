// Runs the `streamgate` command as a user would, in a child process against a
// server the test started: what bin/streamgate.js runs in a checkout without a
// build (server/cli/main.ts through tsx). Not the launcher itself, because it
// prefers dist/ when present, and a stale build would test old code.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { runCli as run } from "../../server/cli/runCli.js";

const main = fileURLToPath(new URL("../../server/cli/main.ts", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  /** Output so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when the process has exited. */
  done: Promise<CliResult>;
}

/**
 * Starts `streamgate <args>`; colour off, address from `env` or the caller's. `input` is written to its
 * stdin (a pipe), or `{ file }` is its stdin (a regular file, as with `< events.jsonl`).
 */
export function startCli(args: string[], env: Record<string, string> = {}, input?: string | { file: string }): RunningCli {
  const stdin = typeof input === "object" ? openSync(input.file, "r") : "pipe";
  const child = spawn(process.execPath, ["--import", "tsx", main, ...args], {
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "", STREAMGATE_DEBUG: "", ...env },
    stdio: [stdin, "pipe", "pipe"],
  });
  if (typeof stdin === "number") closeSync(stdin); // the child has its own copy
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  if (typeof input === "string") child.stdin?.end(input);
  const done = new Promise<CliResult>((resolve) => {
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    done,
  };
}

/** Runs `streamgate <args>` to completion (stdin: `input`, or closed at once). */
export function runCli(args: string[], env: Record<string, string> = {}, input: string | { file: string } = ""): Promise<CliResult> {
  return startCli(args, env, input).done;
}

/**
 * Runs the CLI's entry function in this process, for cases that never reach a
 * server (help, bad command lines): the same code as the binary, without a
 * process start per case.
 */
export async function runInProcess(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const capture = () => {
    const stream = new PassThrough();
    let text = "";
    stream.on("data", (d: Buffer) => {
      text += d.toString();
    });
    return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
  };
  const out = capture();
  const err = capture();
  const stdin = new PassThrough();
  stdin.end();
  const code = await run(args, {
    stdin: stdin as unknown as NodeJS.ReadStream,
    stdout: out.stream,
    stderr: err.stream,
    env: { NO_COLOR: "1", ...env },
  });
  return { code, stdout: out.text(), stderr: err.text() };
}
