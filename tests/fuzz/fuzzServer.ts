// The server under fuzz runs as its own process (server/main.ts, as `npm start`
// runs it), not inside the test: an input that crashes it shows as an exit, and
// one that blocks its event loop as a call that misses its deadline, instead of
// taking the test runner (and its timeouts) down with it.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createClient, type StreamgateClient } from "../../client-sdk/src/index.js";
import { redisUrl } from "../helpers.js";

/** A Streamgate process under fuzz. */
export interface FuzzServer {
  /** host:port to dial. */
  address: string;
  /** An SDK client without credentials (for auth "none"). */
  client: StreamgateClient;
  /** How it ended, if it did: an exit code or a signal. */
  exited(): string | undefined;
  /** Stops it (SIGTERM, then SIGKILL after 5 s). */
  close(): Promise<void>;
}

/** Starts server/main.ts on 127.0.0.1:0 over the test Redis, with a fresh key prefix and `env` (STREAMGATE_*). */
export async function startFuzzServer(env: Record<string, string> = {}): Promise<FuzzServer> {
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
    env: {
      ...process.env,
      REDIS_URL: redisUrl(),
      STREAMGATE_LISTEN: "127.0.0.1:0",
      STREAMGATE_METRICS_LISTEN: "off",
      STREAMGATE_KEY_PREFIX: `test-fuzz-${randomUUID()}`,
      STREAMGATE_LOG_LEVEL: "info",
      STREAMGATE_FEED_LINGER_MS: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const address = await listening(child);
  const client = createClient({ address });
  let ended: string | undefined;
  child.once("exit", (code, signal) => {
    ended = signal ?? `exit code ${code}`;
  });
  return {
    address,
    client,
    exited: () => ended,
    async close() {
      client.close();
      if (ended !== undefined) return;
      const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const force = setTimeout(() => child.kill("SIGKILL"), 5000);
      await gone;
      clearTimeout(force);
    },
  };
}

/** Resolves with the address the server logs once it listens; its later log lines are drained. */
function listening(child: ChildProcess): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let buf = "";
    const onData = (d: Buffer) => {
      buf += d.toString();
      const line = buf.split("\n").find((l) => l.includes('"msg":"streamgate listening"'));
      if (!line) return;
      child.stdout?.off("data", onData);
      child.stdout?.resume();
      resolve((JSON.parse(line) as { address: string }).address);
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`server exited with ${code} before listening:\n${buf.slice(-2000)}`)));
  });
}
