import type { Config } from "../config/loadConfig.js";
import { quoted } from "../errors.js";
import { isValidKref, parseKref } from "./kref.js";

/** An event as a producer submits it, before the server stamps it. */
export interface NewEvent {
  routingKey: string;
  kref: string;
  author: string;
  username: string;
  details: Record<string, string>;
  /** A repeat within the duplicate window is not appended again ("" or absent: no key). */
  idempotencyKey?: string;
}

export type EventLimits = Pick<Config, "maxDetails" | "maxDetailBytes" | "maxEventBytes" | "maxFilterLength">;

const ROUTING_KEY = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;
// Fixed caps (README "Validation"), well above any real key, kref or name; the configurable limits
// (details, whole event, batch) are the ones deployments tune.
/** Longest routing key, in characters. */
export const MAX_ROUTING_KEY = 255;
/** Longest kref, in characters (Unicode code points: 1024 bytes of ASCII, 1024 syllables of Korean). */
export const MAX_KREF = 1024;
/** Longest author or username, in characters. */
export const MAX_NAME = 255;
/** Longest idempotency key, in UTF-8 bytes (room for a UUID, a producer id and sequence, or a source cursor with a prefix). */
export const MAX_IDEMPOTENCY_KEY = 256;

function checkName(what: string, value: string): string | null {
  if (value.length > MAX_NAME) return `${what} is longer than ${MAX_NAME} characters`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(value)) return `${what} must not contain control characters`;
  return null;
}

/**
 * Why a stored entry's routing key or kref is not one Streamgate would have accepted (another
 * producer may XADD anything), or null. Such an entry is skipped, never delivered.
 */
export function storedKeyProblem(routingKey: string, kref: string): string | null {
  if (routingKey.length > MAX_ROUTING_KEY || !ROUTING_KEY.test(routingKey)) return "routing_key is not a valid routing key";
  if (!isValidKref(kref, MAX_KREF)) return "kref is not a valid kref";
  return null;
}

/** Whether `bytes` are a valid routing key (dot-separated segments of [a-z0-9_-]), without decoding them. */
export function isRoutingKeyBytes(bytes: Uint8Array): boolean {
  if (bytes.length === 0 || bytes.length > MAX_ROUTING_KEY) return false;
  let segment = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if (c === 46) {
      if (segment === 0) return false;
      segment = 0;
    } else if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 45) segment++;
    else return false;
  }
  return segment > 0;
}

/** Returns null when the event is acceptable, else a message for INVALID_ARGUMENT. */
export function validateEvent(ev: NewEvent, limits: EventLimits): string | null {
  if (!ev.routingKey) return "routing_key is required";
  if (ev.routingKey.length > MAX_ROUTING_KEY) return `routing_key is longer than ${MAX_ROUTING_KEY} characters`;
  if (!ROUTING_KEY.test(ev.routingKey)) {
    return `routing_key ${quoted(ev.routingKey)} must be dot-separated segments of [a-z0-9_-], e.g. "revision.created"`;
  }
  // The one-pass check accepts exactly the valid krefs; only a refused one is parsed, for its message.
  if (!isValidKref(ev.kref, MAX_KREF)) {
    const kref = parseKref(ev.kref, MAX_KREF);
    if (typeof kref === "string") return kref;
  }
  const nameProblem = checkName("author", ev.author) ?? checkName("username", ev.username);
  if (nameProblem) return nameProblem;
  if (ev.idempotencyKey) {
    const bytes = Buffer.byteLength(ev.idempotencyKey);
    if (bytes > MAX_IDEMPOTENCY_KEY) return `idempotency_key is ${bytes} bytes; the limit is ${MAX_IDEMPOTENCY_KEY}`;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
    if (/[\u0000-\u001f\u007f]/.test(ev.idempotencyKey)) return "idempotency_key must not contain control characters";
  }
  let count = 0;
  let total = Buffer.byteLength(ev.routingKey) + Buffer.byteLength(ev.kref) + Buffer.byteLength(ev.author) + Buffer.byteLength(ev.username);
  for (const k in ev.details) {
    if (++count > limits.maxDetails) return `details has ${Object.keys(ev.details).length} entries; the limit is ${limits.maxDetails}`;
    const v = ev.details[k] as string;
    if (k.length === 0) return "details keys must not be empty";
    const kb = Buffer.byteLength(k);
    const vb = Buffer.byteLength(v);
    if (kb > limits.maxDetailBytes) return `details key ${quoted(k, 40)} is ${kb} bytes; the limit is ${limits.maxDetailBytes}`;
    if (vb > limits.maxDetailBytes) return `details[${quoted(k, 40)}] is ${vb} bytes; the limit is ${limits.maxDetailBytes}`;
    total += kb + vb;
  }
  if (total > limits.maxEventBytes) return `event is ${total} bytes; the limit is ${limits.maxEventBytes}`;
  return null;
}
