// Bench processes talk over Node's IPC channel: the parent calls named methods
// on a child and awaits the answer. Servers and load generators run as separate
// processes so each one's CPU and memory can be read on its own.
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";

interface Request {
  id: number;
  method: string;
  args: unknown;
}

type Reply = { id: number; result: unknown } | { id: number; error: string };

export type Handlers = Record<string, (args: never) => unknown>;

/** Serves `handlers` to the parent; the process exits when the parent disconnects. */
export function serveParent(handlers: Handlers): void {
  process.on("message", (msg: Request) => {
    const handler = handlers[msg.method] as ((args: unknown) => unknown) | undefined;
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown method ${msg.method}`);
        return handler(msg.args);
      })
      .then(
        (result) => process.send?.({ id: msg.id, result } satisfies Reply),
        (err: unknown) =>
          process.send?.({ id: msg.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies Reply),
      );
  });
  process.on("disconnect", () => process.exit(0));
}

export class Child {
  private next = 1;
  private readonly waiting = new Map<number, { res: (v: unknown) => void; rej: (e: Error) => void }>();
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    proc.on("message", (msg: Reply) => {
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if ("error" in msg) w.rej(new Error(`${name}: ${msg.error}`));
      else w.res(msg.result);
    });
    this.exited = new Promise((res) =>
      proc.once("exit", (code) => {
        for (const w of this.waiting.values()) w.rej(new Error(`${name} exited (code ${code})`));
        this.waiting.clear();
        res(code);
      }),
    );
  }

  get pid(): number {
    return this.proc.pid as number;
  }

  call<T>(method: string, args: unknown = {}): Promise<T> {
    const id = this.next++;
    return new Promise<T>((res, rej) => {
      this.waiting.set(id, { res: res as (v: unknown) => void, rej });
      this.proc.send({ id, method, args } satisfies Request);
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.disconnect();
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * The URL of a bench module relative to `from` (an import.meta.url), with the
 * extension the caller itself has: .js when the bench runs compiled (npm run
 * bench), .ts when it runs through tsx.
 */
export function benchModule(relative: string, from: string): string {
  return new URL(`${relative}${from.endsWith(".ts") ? ".ts" : ".js"}`, from).href;
}

/**
 * Forks a bench module as a child process: compiled JavaScript runs on plain
 * node, as production does (`npm start` runs dist/); TypeScript goes through tsx.
 */
export function spawnChild(name: string, moduleUrl: string, env: NodeJS.ProcessEnv = {}, execArgv: string[] = []): Child {
  const proc = fork(fileURLToPath(moduleUrl), [], {
    execArgv: [...(moduleUrl.endsWith(".ts") ? ["--import", "tsx"] : []), ...execArgv],
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    serialization: "advanced",
  });
  return new Child(name, proc);
}
