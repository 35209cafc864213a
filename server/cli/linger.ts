// --linger-ms of `streamgate publish` and `streamgate copy`: how long a batch
// that is not full waits for more events before it is sent. As Kafka's
// producer does (linger.ms), the wait counts from the batch's first event, so
// a steady trickle that never pauses is sent within that time too, and a
// burst still goes out in few batches.
import { UsageError } from "./cliError.js";
import type { Flag, FlagValues } from "./command.js";

/** Default --linger-ms: short enough for a live pipe, long enough to batch a burst. */
export const DEFAULT_LINGER_MS = 50;

/** The --linger-ms flag. */
export const lingerFlag: Flag = {
  type: "string",
  value: "<ms>",
  description: `send a batch that is not full this long after its first event (default ${DEFAULT_LINGER_MS}; 0: at once)`,
};

/** --linger-ms as a number of ms (0 allowed), or a usage error naming it. */
export function lingerMs(values: FlagValues): number {
  const raw = values["linger-ms"];
  if (raw === undefined) return DEFAULT_LINGER_MS;
  const n = typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n > 3_600_000) {
    throw new UsageError(`--linger-ms must be a number of milliseconds from 0 to 3600000, got ${JSON.stringify(raw)}`);
  }
  return n;
}
