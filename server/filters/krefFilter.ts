// Kref filters: globs over the kref's path with "/" as separator, "*" within
// one segment and "**" across any number of segments (zero included, so
// "kref://film/**" matches "kref://film" as "item.#" matches "item"). A pattern
// without a query part matches the kref's path whatever its "?r=" / "&a="; a
// pattern with one matches the whole kref, its query as a glob where "*" does
// not cross "&".
//
// Matching is hand-written and linear in practice: segments are compared as
// tokens (the routing-key algorithm), and a segment glob is matched by finding
// its literal chunks left to right with indexOf. Regular-expression globs
// (picomatch) were dropped here because patterns like "*a*a*a*b" backtrack for
// seconds on a long segment, which froze the whole server from one request.
import { KREF_SCHEME } from "../events/kref.js";
import { ANY_SEGMENTS, matchSegments } from "./matchSegments.js";

/** What a kref matcher looks at: the kref's path split on "/", and its query ("r=3&a=main" or ""). */
export type KrefMatcher = (segments: readonly string[], query: string) => boolean;

export const matchAllKrefs: KrefMatcher = () => true;

/** A segment pattern: a literal, "**" (ANY_SEGMENTS), or the chunks of a "*" glob. */
type Token = string | typeof ANY_SEGMENTS | Glob;

interface Glob {
  /** The pattern split on "*": the first chunk is a prefix, the last a suffix, the rest appear in order between. */
  chunks: string[];
}

const PATH_SEGMENT = /^[A-Za-z0-9_.*-]+$/;
const QUERY = /^[A-Za-z0-9_.=&*-]*$/;

/** Matches `text` against a glob whose only wildcard is "*" (any run of characters). */
export function globMatch(glob: Glob, text: string): boolean {
  const { chunks } = glob;
  const first = chunks[0] as string;
  const last = chunks[chunks.length - 1] as string;
  if (text.length < first.length + last.length || !text.startsWith(first) || !text.endsWith(last)) return false;
  // Leftmost placement of each middle chunk leaves the most room for the others.
  let at = first.length;
  const end = text.length - last.length;
  for (let i = 1; i < chunks.length - 1; i++) {
    const chunk = chunks[i] as string;
    const found = text.indexOf(chunk, at);
    if (found < 0 || found + chunk.length > end) return false;
    at = found + chunk.length;
  }
  return true;
}

function segmentMatches(tok: string | Glob, seg: string): boolean {
  return typeof tok === "string" ? tok === seg : globMatch(tok, seg);
}

/** Tokens against segments ("**" backtracks to its last position only). */
function matchTokens(tokens: readonly Token[], segs: readonly string[]): boolean {
  return matchSegments(tokens, segs, segmentMatches);
}

function toToken(seg: string): Token {
  if (seg === "**") return ANY_SEGMENTS;
  if (!seg.includes("*")) return seg;
  return { chunks: seg.split("*") };
}

/** Matches a query ("r=3&a=main") part by part; "*" stays within one &-separated part. */
function compileQuery(pattern: string): (query: string) => boolean {
  const parts = pattern.split("&").map((p) => (p.includes("*") ? { chunks: p.split("*") } : p));
  return (query) => {
    const values = query.split("&");
    if (values.length !== parts.length) return false;
    for (let i = 0; i < parts.length; i++) if (!segmentMatches(parts[i] as string | Glob, values[i] as string)) return false;
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
  if (pathPattern === "") return `kref_filter "${trimmed}" has no path`;
  const tokens: Token[] = [];
  const literalPrefix: string[] = [];
  let literal = true;
  for (const seg of pathPattern.split("/")) {
    if (seg === "") return `kref_filter "${trimmed}" has an empty path segment`;
    if (seg === "." || seg.includes("..")) return `kref_filter "${trimmed}" must not contain ".."`;
    if (!PATH_SEGMENT.test(seg)) {
      return `kref_filter "${trimmed}": segment "${seg}" may only use letters, digits, "_", "-", "." and the wildcards "*" (within a segment) and "**" (any number of segments)`;
    }
    const tok = toToken(seg);
    // Consecutive "**" mean the same as one.
    if (tok === ANY_SEGMENTS && tokens[tokens.length - 1] === ANY_SEGMENTS) continue;
    tokens.push(tok);
    if (typeof tok !== "string") literal = false;
    else if (literal) literalPrefix.push(tok);
  }
  if (queryPattern !== null && !QUERY.test(queryPattern)) {
    return `kref_filter "${trimmed}": the query part may only use "r=", "&a=", letters, digits, "_", "-", "." and "*"`;
  }
  const pathOnly = tokens.length === 1 && tokens[0] === ANY_SEGMENTS;
  const testPath: KrefMatcher = pathOnly ? matchAllKrefs : (segs) => matchTokens(tokens, segs);
  if (queryPattern === null) return { matches: testPath, literalPrefix };
  const testQuery = compileQuery(queryPattern);
  return { matches: (segs, query) => query !== "" && testPath(segs, query) && testQuery(query), literalPrefix };
}
