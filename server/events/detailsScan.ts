// Reads a stream entry's `details` (a JSON object of string -> string) as byte
// spans, without building JavaScript strings: the fan-out copies the bytes
// straight into protobuf map entries. Strings without escapes (what
// JSON.stringify writes for ordinary text) are copied as they are; a string
// with escapes is decoded by JSON.parse and re-encoded. Anything that is not
// a flat object of strings returns null, and the caller falls back to
// JSON.parse to say what is wrong (storedEvent.ts parseDetails).

/** Spans found by {@link scanDetails}: per string, [start, end, escaped 0/1], key then value. */
export type DetailSpans = number[];

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function skipSpace(b: Buffer, i: number, end: number): number {
  while (i < end) {
    const c = b[i] as number;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    i++;
  }
  return i;
}

/** Scans a JSON string starting at its opening quote; pushes its span; returns the index after the closing quote, or -1. */
function scanString(b: Buffer, i: number, end: number, out: DetailSpans): number {
  if (b[i] !== QUOTE) return -1;
  const start = i + 1;
  let escaped = 0;
  for (let j = start; j < end; j++) {
    const c = b[j] as number;
    if (c === QUOTE) {
      out.push(start, j, escaped);
      return j + 1;
    }
    if (c === BACKSLASH) {
      escaped = 1;
      j++; // the escaped character (for \uXXXX the hex digits are ordinary bytes)
    } else if (c < 0x20) return -1; // raw control characters are not valid JSON
  }
  return -1;
}

/**
 * The key and value spans of a JSON object of strings in buf[start, end), in
 * order; null when the text is anything else (the caller then reports why).
 */
export function scanDetails(b: Buffer, start: number, end: number): DetailSpans | null {
  const out: DetailSpans = [];
  let i = skipSpace(b, start, end);
  if (b[i] !== 0x7b) return null; // {
  i = skipSpace(b, i + 1, end);
  if (b[i] === 0x7d) return skipSpace(b, i + 1, end) === end ? out : null; // {}
  for (;;) {
    i = scanString(b, i, end, out);
    if (i < 0) return null;
    i = skipSpace(b, i, end);
    if (b[i] !== 0x3a) return null; // :
    i = scanString(b, skipSpace(b, i + 1, end), end, out);
    if (i < 0) return null;
    i = skipSpace(b, i, end);
    const c = b[i];
    if (c === 0x2c) {
      i = skipSpace(b, i + 1, end); // ,
      continue;
    }
    if (c === 0x7d) return skipSpace(b, i + 1, end) === end ? out : null; // }
    return null;
  }
}

/** The text of an escaped JSON string span (JSON.parse does the unescaping; it throws on bad escapes). */
export function unescapeSpan(b: Buffer, start: number, end: number): string {
  return JSON.parse(`"${b.toString("utf8", start, end)}"`) as string;
}
