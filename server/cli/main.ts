// Entry point of the `streamgate` command (bin/streamgate.js loads this file).
import { runCli } from "./runCli.js";

process.exitCode = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
