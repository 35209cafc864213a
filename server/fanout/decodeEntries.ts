import { fromStreamFields } from "../events/storedEvent.js";
import { counters } from "../observability/counters.js";
import type { Logger } from "../observability/logger.js";
import { FeedEvent } from "./feedEvent.js";

export type RawEntry = [id: string, fields: string[]];

/** Decodes stream entries; an entry that is not a valid event is logged, counted and skipped. */
export function decodeEntries(entries: readonly RawEntry[], tenantId: string, stream: string, log: Logger): FeedEvent[] {
  const out: FeedEvent[] = [];
  for (const [id, fields] of entries) {
    const stored = fromStreamFields(id, fields);
    if (typeof stored === "string") {
      counters.undecodableEntries++;
      log.warn({ stream, id, reason: stored }, "skipping stream entry that is not a valid event");
      continue;
    }
    out.push(new FeedEvent(stored, tenantId));
  }
  return out;
}
