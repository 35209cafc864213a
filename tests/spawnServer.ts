// `npm start`'s entry point (server/main.ts) as a child process, for tests that
// kill the server the hard way.
import { type ChildProcess, spawn } from "node:child_process";

/** Starts server/main.ts with `env` on top of this process's; resolves once it logs that it is listening. */
export async function spawnServer(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    let buf = "";
    const onData = (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('"msg":"streamgate listening"')) {
        child.stdout?.off("data", onData);
        child.stdout?.resume(); // keep draining its logs
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`server exited with ${code} before listening`)));
  });
  return child;
}

/** SIGKILLs `child` (if it still runs); resolves once it has exited. */
export function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}
