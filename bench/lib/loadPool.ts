// The load processes, started once per bench invocation and reused by every
// run (each run resets them with "close"): spawning five processes per case
// was most of a quick run's time, and none of a run's figures.
import { benchModule, type Child, spawnChild } from "./child.js";

const LOAD = benchModule("../load/loadChild", import.meta.url);
const pool: Child[] = [];

/** `n` idle load processes (started as needed, and replaced if one has exited). */
export async function loadProcesses(n: number): Promise<Child[]> {
  for (let i = 0; i < n; i++) {
    const c = pool[i];
    if (!c || c.proc.exitCode !== null || c.proc.signalCode !== null) pool[i] = spawnChild(`load-${i}`, LOAD);
  }
  const out = pool.slice(0, n);
  await Promise.all(out.map((c) => c.call("close")));
  return out;
}

/** Resets processes after a run (subscribers closed, state dropped); they stay up for the next run. */
export async function releaseLoad(children: readonly Child[]): Promise<void> {
  await Promise.all(children.map((c) => c.call("close").catch(() => {})));
}

/** Stops every load process (at the end of the bench). */
export async function stopLoadProcesses(): Promise<void> {
  await Promise.all(pool.splice(0).map((c) => c.stop()));
}
