// Routing-key filters: dot-separated segments where "*" matches exactly one
// segment and "#" (or "**") matches zero or more; a comma-separated list
// matches when any of its patterns does; an empty filter matches everything.
// Matching works on segments with no regular expressions, so no input can make
// it backtrack catastrophically.

import { ANY_SEGMENTS, matchSegments } from "./matchSegments.js";

const LITERAL = /^[a-z0-9_-]+$/;
const ANY_ONE = 1;
const ANY_MANY = ANY_SEGMENTS;
type Token = string | typeof ANY_ONE | typeof ANY_MANY;

export type RoutingKeyMatcher = (segments: readonly string[]) => boolean;

export const matchAllKeys: RoutingKeyMatcher = () => true;

function compileOne(pattern: string): Token[] | string {
  if (pattern === "") return "routing_key_filter has an empty pattern in its list";
  const tokens: Token[] = [];
  for (const seg of pattern.split(".")) {
    if (seg === "*") tokens.push(ANY_ONE);
    else if (seg === "#" || seg === "**") {
      if (tokens[tokens.length - 1] !== ANY_MANY) tokens.push(ANY_MANY);
    } else if (LITERAL.test(seg)) tokens.push(seg);
    else {
      return `routing_key_filter pattern "${pattern}": segment "${seg}" must be [a-z0-9_-]+, "*" (one segment) or "#"/"**" (any number of segments)`;
    }
  }
  return tokens;
}

const oneSegment = (tok: string | typeof ANY_ONE, seg: string) => tok === ANY_ONE || tok === seg;

function matchTokens(tokens: readonly Token[], segs: readonly string[]): boolean {
  return matchSegments(tokens, segs, oneSegment);
}

/** Compiles a routing-key filter, or returns a message for INVALID_ARGUMENT. */
export function compileRoutingKeyFilter(filter: string, maxLength: number): RoutingKeyMatcher | string {
  const trimmed = filter.trim();
  if (trimmed === "") return matchAllKeys;
  if (trimmed.length > maxLength) return `routing_key_filter is ${trimmed.length} characters; the limit is ${maxLength}`;
  const alternatives: Token[][] = [];
  let matchesAll = false;
  for (const part of trimmed.split(",")) {
    // Every part is checked, even after one that matches everything: a bad pattern is always refused.
    const tokens = compileOne(part.trim());
    if (typeof tokens === "string") return tokens;
    if (tokens.length === 1 && tokens[0] === ANY_MANY) matchesAll = true;
    alternatives.push(tokens);
  }
  if (matchesAll) return matchAllKeys;
  if (alternatives.length === 1) {
    const only = alternatives[0] as Token[];
    return (segs) => matchTokens(only, segs);
  }
  return (segs) => alternatives.some((tokens) => matchTokens(tokens, segs));
}

/** Literal segments before the first wildcard, for indexing (e.g. "revision.*" -> ["revision"]). */
export function routingKeyLiteralPrefix(filter: string): string[] | null {
  const trimmed = filter.trim();
  if (trimmed === "" || trimmed.includes(",")) return null;
  const out: string[] = [];
  for (const seg of trimmed.split(".")) {
    if (seg === "*" || seg === "#" || seg === "**") break;
    out.push(seg);
  }
  return out;
}
