/**
 * A kref with its parts. Kumiho's grammar: `kref://project` (a project), `kref://project/space[/sub...]`
 * (a space), `kref:///space[/sub...]` (a root-level space, whose project is ""),
 * `kref://project[/space...]/name.kind` (an item), then optionally `?r=N` (a revision) and
 * `&a=artifact` (an artifact). Segments may hold Unicode letters and digits (`kref://영화/shots/sh010.model`).
 */
export interface Kref {
  /** The full URI, e.g. "kref://film/shots/sh010.model?r=3". */
  uri: string;
  /** The project: the first path segment, e.g. "film"; "" for a root-level space (`kref:///shots`). */
  project: string;
  /** Space path below the project, e.g. "shots" or "shots/seq1" ("" for a project kref or an item directly in the project). */
  space: string;
  /** Item name, e.g. "sh010" ("" for project or space krefs). */
  name: string;
  /** Item kind, e.g. "model": what follows the last dot of the item segment ("" for project or space krefs). */
  kind: string;
  /** Revision number (`?r=0` and `?r=007` read 0 and 7; exact up to 2^53), or undefined when the kref has no `?r=`. */
  revision: number | undefined;
  /** Artifact name, or undefined when the kref has no `&a=`. */
  artifact: string | undefined;
}

const DECIMAL_DIGIT = /^\p{Nd}$/u;
const DECIMAL_DIGITS = /^\p{Nd}+$/u;

/**
 * The value of `s` when it is one or more decimal digits, else undefined. Kumiho's grammar takes
 * any script's digits (Python's \d: `?r=٣` is revision 3). Each script's digits are encoded as
 * runs of ten from its zero, and consecutive runs start at a zero too (Unicode's stability policy),
 * so a digit's value is its distance from the start of its run, modulo 10.
 */
function digitsValue(s: string): number | undefined {
  let ascii = s.length > 0;
  for (let i = 0; i < s.length && ascii; i++) {
    const c = s.charCodeAt(i);
    ascii = c >= 48 && c <= 57;
  }
  if (ascii) return Number(s);
  if (!DECIMAL_DIGITS.test(s)) return undefined;
  let digits = "";
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    let start = cp;
    while (DECIMAL_DIGIT.test(String.fromCodePoint(start - 1))) start--;
    digits += String((cp - start) % 10);
  }
  return Number(digits);
}

/**
 * The first value of parameter `name` in `query`, or null. Krefs almost never need URL decoding
 * ("r=3&a=main"), so the common case is read by hand; anything with "%" or "+" goes through
 * URLSearchParams. This runs once per received event.
 */
function param(query: string, name: string): string | null {
  if (query === "") return null;
  if (query.includes("%") || query.includes("+")) return new URLSearchParams(query).get(name);
  let at = 0;
  while (at <= query.length) {
    let end = query.indexOf("&", at);
    if (end < 0) end = query.length;
    const eq = query.indexOf("=", at);
    const nameEnd = eq >= 0 && eq < end ? eq : end;
    if (nameEnd - at === name.length && query.startsWith(name, at)) return nameEnd === end ? "" : query.slice(nameEnd + 1, end);
    at = end + 1;
  }
  return null;
}

/**
 * Splits a kref URI into its parts; unknown shapes keep the URI and leave parts empty. The last path
 * segment after the project is an item when it reads `name.kind` (as Kumiho's SDK reads it), so
 * `kref://film/hero.model` is item `hero` of kind `model` directly in project `film`. A root-level
 * kref (`kref:///shots/seq1`) has project "" and the whole path below it as its space.
 * (Index arithmetic rather than split/join: the client parses the kref of every event it receives.)
 */
export function parseKref(uri: string): Kref {
  const start = uri.startsWith("kref://") ? "kref://".length : 0;
  const q = uri.indexOf("?", start);
  const pathEnd = q < 0 ? uri.length : q;
  const query = q < 0 ? "" : uri.slice(q + 1);
  const firstSlash = uri.indexOf("/", start);
  const hasSpace = firstSlash >= 0 && firstSlash < pathEnd;
  const lastSlash = hasSpace ? uri.lastIndexOf("/", pathEnd - 1) : -1;
  const last = hasSpace ? uri.slice(lastSlash + 1, pathEnd) : "";
  const dot = last.lastIndexOf(".");
  const isItem = dot > 0 && dot < last.length - 1;
  const r = param(query, "r");
  return {
    uri,
    project: uri.slice(start, hasSpace ? firstSlash : pathEnd),
    space: hasSpace ? uri.slice(firstSlash + 1, isItem ? Math.max(firstSlash + 1, lastSlash) : pathEnd) : "",
    name: isItem ? last.slice(0, dot) : "",
    kind: isItem ? last.slice(dot + 1) : "",
    revision: r === null ? undefined : digitsValue(r),
    artifact: param(query, "a") ?? undefined,
  };
}
