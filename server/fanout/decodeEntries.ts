import { isUtf8 } from "node:buffer";
import { scanDetails } from "../events/detailsScan.js";
import { isValidKrefBytes } from "../events/kref.js";
import { fromStreamFields } from "../events/storedEvent.js";
import { isRoutingKeyBytes, MAX_KREF } from "../events/validateEvent.js";
import { counters } from "../observability/counters.js";
import type { Logger } from "../observability/logger.js";
import { Field } from "../redis/layout.js";
import { FeedEvent, type StreamOrigin } from "./feedEvent.js";
import { RawEvent } from "./rawEvent.js";

/** A stream entry as the fan-out reads it (XREAD/XRANGE with Buffer replies). */
export type RawEntry = [id: Buffer, fields: Buffer[]];

const names = {
  routingKey: Buffer.from(Field.routingKey),
  kref: Buffer.from(Field.kref),
  author: Buffer.from(Field.author),
  username: Buffer.from(Field.username),
  details: Buffer.from(Field.details),
};

function is(name: Buffer, want: Buffer): boolean {
  if (name.length !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (name[i] !== want[i]) return false;
  return true;
}

/**
 * The entry as raw bytes when it is a well-formed event whose details need no
 * unescaping (what Streamgate itself writes); undefined when it needs the
 * string path (escapes, or something wrong that the string path reports).
 */
function raw(id: string, idBytes: Buffer, fields: Buffer[]): RawEvent | undefined {
  let rk: Buffer | undefined;
  let kref: Buffer | undefined;
  let author: Buffer | undefined;
  let username: Buffer | undefined;
  let details: Buffer | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i] as Buffer;
    const value = fields[i + 1] as Buffer;
    if (is(name, names.routingKey)) rk = value;
    else if (is(name, names.kref)) kref = value;
    else if (is(name, names.author)) author = value;
    else if (is(name, names.username)) username = value;
    else if (is(name, names.details)) details = value;
  }
  if (!rk || !kref) return undefined;
  // What another producer wrote may be anything: a bad routing key or kref, or bytes that are not
  // UTF-8 (a strict protobuf decoder would fail the whole stream on them), take the string path,
  // which skips the entry or, for free text, replaces the bad bytes.
  if (!isRoutingKeyBytes(rk) || !isValidKrefBytes(kref, MAX_KREF)) return undefined;
  if ((author && !isUtf8(author)) || (username && !isUtf8(username)) || (details && !isUtf8(details))) return undefined;
  let spans: number[] = [];
  if (details) {
    const found = scanDetails(details, 0, details.length);
    if (!found) return undefined;
    for (let i = 2; i < found.length; i += 3) if (found[i]) return undefined;
    spans = found;
  }
  return new RawEvent(id, idBytes, rk, kref, author, username, details, spans);
}

/** Decodes stream entries; an entry that is not a valid event is logged, counted and skipped. */
export function decodeEntries(entries: readonly RawEntry[], origin: StreamOrigin, stream: string, log: Logger): FeedEvent[] {
  const out: FeedEvent[] = [];
  for (const [idBytes, fields] of entries) {
    const id = idBytes.toString("latin1");
    const fast = raw(id, idBytes, fields);
    if (fast) {
      out.push(new FeedEvent(fast, origin));
      continue;
    }
    const stored = fromStreamFields(
      id,
      fields.map((f) => f.toString("utf8")),
    );
    if (typeof stored === "string") {
      counters.undecodableEntries++;
      log.warn({ stream, id, reason: stored }, "skipping stream entry that is not a valid event");
      continue;
    }
    out.push(new FeedEvent(stored, origin));
  }
  return out;
}

/** The last entry's ID as a string. */
export function lastId(entries: readonly RawEntry[]): string {
  return ((entries[entries.length - 1] as RawEntry)[0] as Buffer).toString("latin1");
}
