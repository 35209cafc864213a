// Kref filters: globs over the kref's path with "/" as separator, "*" within
// one segment and "**" across any number of segments (zero included, so
// "kref://film/**" matches "kref://film" as "item.#" matches "item"). A pattern
// without a query part matches the kref's path whatever its "?r=" / "&a="; a
// pattern with one matches the whole kref, its query as a glob where "*" does
// not cross "&". Segments may use Unicode letters and digits, as krefs do
// (events/kref.ts); a pattern starting "kref:///" is about root-level spaces,
// whose first (project) segment is empty.
//
// Matching is linear in the kref for a given pattern, whatever its shape
// (segmentPattern.ts, globSet.ts): regular-expression globs (picomatch) were
// dropped because "*a*a*a*b" backtracks for seconds on a long segment, and
// the backtracking token matcher after them because "**/" + "*a*/" x 250
// took 2 ms per event (issue #12).
import { quoted } from "../errors.js";
import { KREF_SCHEME } from "../events/kref.js";
import { globTester } from "./globSet.js";
import { matchCost } from "./matchCost.js";
import { compileSegments } from "./segmentPattern.js";
import { ANY_SEGMENTS, ONE_SEGMENT, type SegmentToken } from "./segmentToken.js";

/** What a kref matcher looks at: the kref's path split on "/", and its query ("r=3&a=main" or ""). */
export type KrefMatcher = (segments: readonly string[], query: string) => boolean;

export const matchAllKrefs: KrefMatcher = () => true;

const PATH_SEGMENT = /^[\p{L}\p{N}_.*-]+$/u;
const QUERY = /^[\p{L}\p{N}_.=&*-]*$/u;

function toToken(seg: string): SegmentToken {
  if (seg === "**") return ANY_SEGMENTS;
  if (!seg.includes("*")) return seg;
  // "a**b" means "a*b"; a segment of stars only is any one segment.
  const glob = seg.replace(/\*+/g, "*");
  return glob === "*" ? ONE_SEGMENT : { glob };
}

/** Matches a query ("r=3&a=main") part by part; "*" stays within one &-separated part. */
function compileQuery(pattern: string): (query: string) => boolean {
  // Steps of the literal and single-"*" parts, counted once per query (a GlobSet counts its own).
  let steps = 0;
  const parts = pattern.split("&").map((part): ((value: string) => boolean) => {
    steps += 1 + part.length;
    return part.includes("*") ? globTester(part.replace(/\*+/g, "*")) : (value) => value === part;
  });
  return (query) => {
    const values = query.split("&");
    matchCost.steps += steps;
    if (values.length !== parts.length) return false;
    for (let i = 0; i < parts.length; i++) if (!(parts[i] as (value: string) => boolean)(values[i] as string)) return false;
    return true;
  };
}

export interface CompiledKref {
  matches: KrefMatcher;
  /** The literal path segments before the first wildcard (for indexing subscriptions). */
  literalPrefix: string[];
}

/** Compiles a kref filter, or returns a message for INVALID_ARGUMENT. */
export function compileKrefFilter(filter: string, maxLength: number): CompiledKref | string {
  const trimmed = filter.trim();
  if (trimmed === "") return { matches: matchAllKrefs, literalPrefix: [] };
  if (trimmed.length > maxLength) return `kref_filter is ${trimmed.length} characters; the limit is ${maxLength}`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) return "kref_filter must not contain control characters";
  const body = trimmed.startsWith(KREF_SCHEME) ? trimmed.slice(KREF_SCHEME.length) : trimmed;
  const q = body.indexOf("?");
  const pathPattern = q < 0 ? body : body.slice(0, q);
  const queryPattern = q < 0 ? null : body.slice(q + 1);
  if (pathPattern === "") return `kref_filter ${quoted(trimmed)} has no path`;
  const tokens: SegmentToken[] = [];
  const literalPrefix: string[] = [];
  let literal = true;
  const segments = pathPattern.split("/");
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as string;
    // "kref:///space": root-level spaces have an empty first (project) segment, as their krefs do.
    if (seg === "" && i === 0 && segments.length > 1) {
      tokens.push("");
      if (literal) literalPrefix.push("");
      continue;
    }
    if (seg === "") return `kref_filter ${quoted(trimmed)} has an empty path segment`;
    if (seg === "." || seg.includes("..")) return `kref_filter ${quoted(trimmed)} must not contain ".."`;
    if (!PATH_SEGMENT.test(seg)) {
      return `kref_filter ${quoted(trimmed)}: segment ${quoted(seg, 40)} may only use letters, digits, "_", "-", "." and the wildcards "*" (within a segment) and "**" (any number of segments)`;
    }
    const tok = toToken(seg);
    // Consecutive "**" mean the same as one.
    if (tok === ANY_SEGMENTS && tokens[tokens.length - 1] === ANY_SEGMENTS) continue;
    tokens.push(tok);
    if (typeof tok !== "string") literal = false;
    else if (literal) literalPrefix.push(tok);
  }
  if (queryPattern !== null && !QUERY.test(queryPattern)) {
    return `kref_filter ${quoted(trimmed)}: the query part may only use "r=", "&a=", letters, digits, "_", "-", "." and "*"`;
  }
  const pathOnly = tokens.length === 1 && tokens[0] === ANY_SEGMENTS;
  let testPath: KrefMatcher = matchAllKrefs;
  if (!pathOnly) {
    const path = compileSegments([tokens]);
    testPath = (segs) => path.matches(segs);
  }
  if (queryPattern === null) return { matches: testPath, literalPrefix };
  const testQuery = compileQuery(queryPattern);
  return { matches: (segs, query) => query !== "" && testPath(segs, query) && testQuery(query), literalPrefix };
}
