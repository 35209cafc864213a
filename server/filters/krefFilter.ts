// Kref filters: globs over the kref with "/" as separator, "*" within one
// segment and "**" across segments. A pattern without a query part matches the
// kref's path whatever its "?r=" / "&a="; a pattern with one matches the whole
// kref, its query as a glob where "*" does not cross "&".
//
// picomatch has had ReDoS advisories: the version is pinned in package.json,
// extglobs and braces are refused before it sees a pattern, and the pattern
// length is capped.
import picomatch from "picomatch";
import { KREF_SCHEME } from "../events/kref.js";

export type KrefMatcher = (path: string, query: string) => boolean;

export const matchAllKrefs: KrefMatcher = () => true;

const EXTGLOB = /[?*+@!]\(/;

/** Matches a query ("r=3&a=main") against a query glob, "*" staying within one &-separated part. */
function compileQuery(pattern: string): (query: string) => boolean {
  const parts = pattern.split("&");
  return (query) => {
    const values = query.split("&");
    if (values.length !== parts.length) return false;
    for (let i = 0; i < parts.length; i++) if (!wildcard(parts[i] as string, values[i] as string)) return false;
    return true;
  };
}

/** "*" matches any run of characters; linear-time greedy matching with one backtrack point. */
function wildcard(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      mark = t;
    } else if (p < pattern.length && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else return false;
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

/** Compiles a kref filter, or returns a message for INVALID_ARGUMENT. */
export function compileKrefFilter(filter: string, maxLength: number): KrefMatcher | string {
  const trimmed = filter.trim();
  if (trimmed === "") return matchAllKrefs;
  if (trimmed.length > maxLength) return `kref_filter is ${trimmed.length} characters; the limit is ${maxLength}`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) return "kref_filter must not contain control characters";
  if (EXTGLOB.test(trimmed)) return `kref_filter "${trimmed}": extglob syntax such as +(a|b) is not supported`;
  if (/[{}]/.test(trimmed)) return `kref_filter "${trimmed}": brace expansion is not supported; use a comma-free glob`;
  const body = trimmed.startsWith(KREF_SCHEME) ? trimmed.slice(KREF_SCHEME.length) : trimmed;
  const q = body.indexOf("?");
  const pathPattern = q < 0 ? body : body.slice(0, q);
  const queryPattern = q < 0 ? null : body.slice(q + 1);
  if (pathPattern === "") return `kref_filter "${trimmed}" has no path`;
  if (pathPattern.split("/").includes("..")) return `kref_filter "${trimmed}" must not contain ".."`;
  if (pathPattern === "**") return queryPattern === null ? matchAllKrefs : withQuery(() => true, queryPattern);
  let test: (s: string) => boolean;
  try {
    const re = picomatch.makeRe(pathPattern, { noextglob: true, nobrace: true, dot: true, maxLength, strictSlashes: true });
    test = (s) => re.test(s);
  } catch (err) {
    return `kref_filter "${trimmed}" is not a valid glob: ${(err as Error).message}`;
  }
  if (queryPattern === null) return (path) => test(path);
  return withQuery(test, queryPattern);
}

function withQuery(testPath: (s: string) => boolean, queryPattern: string): KrefMatcher {
  const testQuery = compileQuery(queryPattern);
  return (path, query) => query !== "" && testPath(path) && testQuery(query);
}

/** The literal path prefix of a kref filter up to its first glob character, for indexing. */
export function krefLiteralPrefix(filter: string): string {
  const trimmed = filter.trim();
  const body = trimmed.startsWith(KREF_SCHEME) ? trimmed.slice(KREF_SCHEME.length) : trimmed;
  const m = /[*?[\]]/.exec(body);
  return m ? body.slice(0, m.index) : body;
}
