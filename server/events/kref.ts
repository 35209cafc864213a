// Kumiho's kref grammar, exactly as its validate_kref accepts it (Python SDK, kumiho/kref.py: a "..",
// control-character check, then one regular expression, re.UNICODE):
//   kref://<segment>[/<segment>...]                 a project, a space (spaces nest), an item
//   kref:///<segment>[/<segment>...]                a root-level space: its project is empty
//   ...?r=<digits>[&a=<artifact>]                   a revision, an artifact of it
// A segment is a word character, then word characters, "." and "-". Word characters are Python's
// Unicode \w: letters (\p{L}), numbers (\p{N}) and "_". Not combining marks: Python's re leaves them
// out, so a decomposed "café" (e + U+0301) is refused where the composed one is accepted. Digits are
// Unicode decimal digits (\p{Nd}), any number of them ("0" and "007" too); the artifact is ASCII
// [A-Za-z0-9._-]+ (Kumiho generates artifact ids). Nowhere "..", no control characters (neither
// can occur in the productions above except ".."). Which code points are letters and numbers is
// the Node runtime's Unicode version; Python's may be older (3.11: Unicode 14), so letters added
// since are accepted here and refused there.
// At most maxLength characters, counted as Unicode code points (what Python's len() counts), so an
// ASCII kref may have maxLength bytes and a Korean one maxLength syllables.

import { quoted } from "../errors.js";

export const KREF_SCHEME = "kref://";

/** A kref split into its parts. */
export interface KrefParts {
  uri: string;
  /** "project/space/name.kind" (no scheme, no query); "/space" for a root-level space. */
  path: string;
  /** "r=3&a=main", or "" when there is none. */
  query: string;
  /** The first path segment; "" for a root-level kref (`kref:///space`). */
  project: string;
  /** The space path below the project ("shots/seq1"); "" for a project kref or an item directly in the project. */
  space: string;
  /** Item name and kind ("" for project and space krefs): the last segment after the project split at its last dot. */
  name: string;
  kind: string;
  /** From "?r=" (exact up to 2^53), else 0. */
  revision: number;
  /** From "&a=", else "". */
  artifact: string;
}

const WORD = 1;
const DIGIT = 2;
const DOT = 46;
const DASH = 45;
const SLASH = 47;
const QUESTION = 63;
const AMPERSAND = 38;
const EQUALS = 61;
const LETTER_R = 114;
const LETTER_A = 97;
const SCHEME_BYTES = Buffer.from(KREF_SCHEME);

/** Classes of ASCII: WORD for [A-Za-z0-9_], DIGIT for [0-9]. */
const ASCII = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  ASCII[c] = (/\w/.test(ch) ? WORD : 0) | (/\d/.test(ch) ? DIGIT : 0);
}

// Classes of the other code points, by blocks of 256 filled on first use from the engine's own
// Unicode tables: a Korean or accented kref touches a block or two, and no table is shipped.
const WORD_CHAR = /[\p{L}\p{N}_]/u;
const DECIMAL_DIGIT = /\p{Nd}/u;
const blocks: (Uint8Array | undefined)[] = new Array(0x1100);

/** WORD and DIGIT bits of code point `cp`. */
function classOf(cp: number): number {
  if (cp < 128) return ASCII[cp] as number;
  const hi = cp >>> 8;
  let block = blocks[hi];
  if (block === undefined) {
    block = new Uint8Array(256);
    for (let i = 0; i < 256; i++) {
      const c = (hi << 8) | i;
      if (c >= 0xd800 && c <= 0xdfff) continue; // surrogates are not characters
      const s = String.fromCodePoint(c);
      block[i] = (WORD_CHAR.test(s) ? WORD : 0) | (DECIMAL_DIGIT.test(s) ? DIGIT : 0);
    }
    blocks[hi] = block;
  }
  return block[cp & 255] as number;
}

/** Whether code point `cp` is a word character of the grammar (Python's Unicode \w). */
export function isWordCodePoint(cp: number): boolean {
  return (classOf(cp) & WORD) !== 0;
}

/** Bytes taken by the code point the last decodeAt returned. */
let decodedLength = 0;

/**
 * The code point of the UTF-8 sequence at b[i] (a byte >= 0x80) within b[0, n), or -1 when it is
 * not well-formed UTF-8 (stray continuation, overlong, surrogate, above U+10FFFF, cut at n).
 * Such bytes decode to U+FFFD on the string path, which no production accepts either.
 */
function decodeAt(b: Uint8Array, i: number, n: number): number {
  const c0 = b[i] as number;
  if (c0 < 0xc2 || c0 > 0xf4) return -1;
  if (i + 1 >= n) return -1;
  const c1 = b[i + 1] as number;
  if ((c1 & 0xc0) !== 0x80) return -1;
  if (c0 < 0xe0) {
    decodedLength = 2;
    return ((c0 & 0x1f) << 6) | (c1 & 0x3f);
  }
  if (i + 2 >= n) return -1;
  const c2 = b[i + 2] as number;
  if ((c2 & 0xc0) !== 0x80) return -1;
  if (c0 < 0xf0) {
    if ((c0 === 0xe0 && c1 < 0xa0) || (c0 === 0xed && c1 >= 0xa0)) return -1;
    decodedLength = 3;
    return ((c0 & 0x0f) << 12) | ((c1 & 0x3f) << 6) | (c2 & 0x3f);
  }
  if (i + 3 >= n) return -1;
  const c3 = b[i + 3] as number;
  if ((c3 & 0xc0) !== 0x80 || (c0 === 0xf0 && c1 < 0x90) || (c0 === 0xf4 && c1 >= 0x90)) return -1;
  decodedLength = 4;
  return ((c0 & 0x07) << 18) | ((c1 & 0x3f) << 12) | ((c2 & 0x3f) << 6) | (c3 & 0x3f);
}

/**
 * Scans a segment from b[i]: a word character, then word characters, "." and "-" with no "..".
 * Returns where it stopped (n, or a byte that is no part of a segment), or -1 when invalid.
 */
function scanSegment(b: Uint8Array, i: number, n: number): number {
  if (i >= n) return -1;
  let c = b[i] as number;
  if (c < 128) {
    if ((ASCII[c] as number) === 0) return -1;
    i++;
  } else {
    const cp = decodeAt(b, i, n);
    if (cp < 0 || (classOf(cp) & WORD) === 0) return -1;
    i += decodedLength;
  }
  let dot = false;
  while (i < n) {
    c = b[i] as number;
    if (c < 128) {
      if ((ASCII[c] as number) !== 0 || c === DASH) dot = false;
      else if (c === DOT) {
        if (dot) return -1;
        dot = true;
      } else return i;
      i++;
    } else {
      // No delimiter is beyond ASCII: anything else than a word character is invalid here.
      const cp = decodeAt(b, i, n);
      if (cp < 0 || (classOf(cp) & WORD) === 0) return -1;
      dot = false;
      i += decodedLength;
    }
  }
  return i;
}

/** Whether b[0, n) holds at most `max` code points (bytes that do not continue a UTF-8 sequence). */
function atMostCodePoints(b: Uint8Array, n: number, max: number): boolean {
  if (n > 4 * max) return false;
  let count = 0;
  for (let i = 0; i < n; i++) if (((b[i] as number) & 0xc0) !== 0x80) count++;
  return count <= max;
}

/**
 * Whether the kref in b[0, n) (its UTF-8 bytes, e.g. as read back from Redis, where another producer
 * may have written anything) is valid: one pass, nothing allocated. An ASCII kref never leaves the
 * byte loop; other characters are decoded where they stand. The grammar's one implementation:
 * {@link isValidKref} runs it on a string's UTF-8, and parseKref accepts exactly the same krefs (tested).
 */
export function isValidKrefBytes(b: Uint8Array, maxLength: number, n: number = b.length): boolean {
  if (n <= SCHEME_BYTES.length) return false;
  if (n > maxLength && !atMostCodePoints(b, n, maxLength)) return false;
  for (let i = 0; i < SCHEME_BYTES.length; i++) if (b[i] !== SCHEME_BYTES[i]) return false;
  let i = SCHEME_BYTES.length;
  if (b[i] === SLASH) i++; // kref:///space: a root-level space
  for (;;) {
    i = scanSegment(b, i, n);
    if (i < 0) return false;
    if (i === n) return true;
    if (b[i] === SLASH) i++;
    else if (b[i] === QUESTION) break;
    else return false;
  }
  // "?r=" and at least one digit. Bounds checked, since b may be a scratch array holding older bytes past n.
  if (i + 3 >= n || b[i + 1] !== LETTER_R || b[i + 2] !== EQUALS) return false;
  i += 3;
  const digits = i;
  while (i < n) {
    const c = b[i] as number;
    if (c < 128) {
      if (((ASCII[c] as number) & DIGIT) === 0) break;
      i++;
    } else {
      const cp = decodeAt(b, i, n);
      if (cp < 0 || (classOf(cp) & DIGIT) === 0) return false;
      i += decodedLength;
    }
  }
  if (i === digits) return false;
  if (i === n) return true;
  // "&a=" and an ASCII artifact [A-Za-z0-9._-]+ without "..".
  if (i + 3 >= n || b[i] !== AMPERSAND || b[i + 1] !== LETTER_A || b[i + 2] !== EQUALS) return false;
  let dot = false;
  for (i += 3; i < n; i++) {
    const c = b[i] as number;
    if (c === DOT) {
      if (dot) return false;
      dot = true;
    } else if ((c < 128 && (ASCII[c] as number) !== 0) || c === DASH) dot = false;
    else return false;
  }
  return true;
}

let scratch = new Uint8Array(256);
const utf8 = new TextEncoder();

/**
 * Whether `uri` is a valid kref, without allocating: the publish path checks every event's kref,
 * and {@link parseKref}'s split-and-match reading cost more than the rest of validation together.
 * An ASCII kref's char codes are copied into a scratch array as they are; any other is encoded to
 * UTF-8 there (a lone surrogate becomes U+FFFD, which the grammar refuses, as Python's \w does).
 */
export function isValidKref(uri: string, maxLength: number): boolean {
  const n = uri.length;
  // A code point takes at most two UTF-16 units: past 2 * maxLength units there are too many.
  if (n === 0 || n > 2 * maxLength) return false;
  if (scratch.length < 3 * n) scratch = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    const c = uri.charCodeAt(i);
    if (c > 127) return isValidKrefBytes(scratch, maxLength, utf8.encodeInto(uri, scratch).written);
    scratch[i] = c;
  }
  return isValidKrefBytes(scratch, maxLength, n);
}

/** Code points in `s` (UTF-16 units less surrogate pairs). */
export function codePointLength(s: string): number {
  let pairs = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const p = s.charCodeAt(i - 1);
      if (p >= 0xd800 && p <= 0xdbff) pairs++;
    }
  }
  return s.length - pairs;
}

/**
 * The value of a string of Unicode decimal digits, as Number reads its ASCII form (exact up to
 * 2^53). Each script's digits are encoded as runs of ten from its zero, and consecutive runs start
 * at a zero too (Unicode's stability policy), so a digit's value is its distance from the start of
 * its run, modulo 10.
 */
export function decimalValue(digits: string): number {
  let ascii = "";
  for (const ch of digits) {
    const cp = ch.codePointAt(0) as number;
    let start = cp;
    while ((classOf(start - 1) & DIGIT) !== 0) start--;
    ascii += String((cp - start) % 10);
  }
  return Number(ascii);
}

// Only to word a refusal; acceptance is isValidKref's.
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
const SEGMENT = /^[\p{L}\p{N}_][\p{L}\p{N}_.-]*$/u;
const REVISION = /^\p{Nd}+$/u;
const ARTIFACT = /^[A-Za-z0-9._-]+$/;

/** Returns the parts of a valid kref, or a sentence saying what is wrong with it. */
export function parseKref(uri: string, maxLength: number): KrefParts | string {
  if (uri.length === 0) return "kref is required";
  const length = codePointLength(uri);
  if (length > maxLength) return `kref is ${length} characters; the limit is ${maxLength}`;
  if (CONTROL.test(uri)) return "kref must not contain control characters";
  if (!uri.startsWith(KREF_SCHEME)) return `kref must start with "${KREF_SCHEME}", got ${quoted(uri)}`;
  if (uri.includes("..")) return `kref ${quoted(uri)} must not contain ".."`;
  const rest = uri.slice(KREF_SCHEME.length);
  const q = rest.indexOf("?");
  const path = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? "" : rest.slice(q + 1);
  if (path === "") return `kref ${quoted(uri)} has no path, e.g. "kref://film/shots/sh010.model"`;
  // kref:///space: a root-level space, whose project is empty.
  const root = path.startsWith("/");
  const segments = (root ? path.slice(1) : path).split("/");
  for (const seg of segments) {
    if (seg === "") return `kref ${quoted(uri)} has an empty path segment`;
    if (!SEGMENT.test(seg)) {
      return `kref ${quoted(uri)}: path segment ${quoted(seg, 40)} must start with a letter, digit or "_" and may only use letters, digits, "_", "-" and "."`;
    }
  }
  let revision = 0;
  let artifact = "";
  if (q >= 0) {
    const m = /^r=([^&]*)(?:&a=(.*))?$/.exec(query);
    if (!m) return `kref ${quoted(uri)}: the query part must be "?r=<revision>" optionally followed by "&a=<artifact>"`;
    if (!REVISION.test(m[1] as string)) return `kref ${quoted(uri)}: the revision must be a number (digits)`;
    revision = decimalValue(m[1] as string);
    if (m[2] !== undefined) {
      if (!ARTIFACT.test(m[2]))
        return `kref ${quoted(uri)}: artifact name ${quoted(m[2], 40)} may only use ASCII letters, digits, "_", "-" and "."`;
      artifact = m[2];
    }
  }
  // Below the project: spaces, and last an item when that segment reads <name>.<kind> (both non-empty).
  const below = root ? segments : segments.slice(1);
  const last = below.length > 0 ? (below[below.length - 1] as string) : "";
  const dot = last.lastIndexOf(".");
  const isItem = dot > 0 && dot < last.length - 1;
  return {
    uri,
    path,
    query,
    project: root ? "" : (segments[0] as string),
    space: (isItem ? below.slice(0, -1) : below).join("/"),
    name: isItem ? last.slice(0, dot) : "",
    kind: isItem ? last.slice(dot + 1) : "",
    revision,
    artifact,
  };
}
