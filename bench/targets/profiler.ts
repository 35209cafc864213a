// In-process CPU profiling of a server child for just the measured window
// (BENCH_PROFILE=<dir>): start and stop are called over IPC around a run, so
// start-up and module loading stay out of the profile.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { writeHeapSnapshot } from "node:v8";

let session: Session | undefined;

export const profilerHandlers = {
  async profileStart() {
    session = new Session();
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 200 });
    await session.post("Profiler.start");
    return true;
  },
  async profileStop(args: { file: string }) {
    if (!session) return false;
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(args.file, JSON.stringify(profile));
    session.disconnect();
    session = undefined;
    return true;
  },
};

/** Memory diagnostics of a server child (children run with --expose-gc). */
export const memoryHandlers = {
  gc() {
    globalThis.gc?.();
    return true;
  },
  heapSnapshot(args: { file: string }) {
    globalThis.gc?.();
    return writeHeapSnapshot(args.file);
  },
  memory() {
    globalThis.gc?.();
    return process.memoryUsage();
  },
};
