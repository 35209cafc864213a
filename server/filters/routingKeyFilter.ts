// Routing-key filters: dot-separated segments where "*" matches exactly one
// segment and "#" (or "**") matches zero or more; a comma-separated list
// matches when any of its patterns does; an empty filter matches everything.
// The whole list runs as one automaton over the key's segments (segmentNfa.ts),
// linear in the key whatever the patterns.

import { compileSegments } from "./segmentPattern.js";
import { ANY_SEGMENTS, ONE_SEGMENT, type SegmentToken } from "./segmentToken.js";

const LITERAL = /^[a-z0-9_-]+$/;

export type RoutingKeyMatcher = (segments: readonly string[]) => boolean;

export const matchAllKeys: RoutingKeyMatcher = () => true;

function compileOne(pattern: string): SegmentToken[] | string {
  if (pattern === "") return "routing_key_filter has an empty pattern in its list";
  const tokens: SegmentToken[] = [];
  for (const seg of pattern.split(".")) {
    if (seg === "*") tokens.push(ONE_SEGMENT);
    else if (seg === "#" || seg === "**") {
      if (tokens[tokens.length - 1] !== ANY_SEGMENTS) tokens.push(ANY_SEGMENTS);
    } else if (LITERAL.test(seg)) tokens.push(seg);
    else {
      return `routing_key_filter pattern "${pattern}": segment "${seg}" must be [a-z0-9_-]+, "*" (one segment) or "#"/"**" (any number of segments)`;
    }
  }
  return tokens;
}

/** Compiles a routing-key filter, or returns a message for INVALID_ARGUMENT. */
export function compileRoutingKeyFilter(filter: string, maxLength: number): RoutingKeyMatcher | string {
  const trimmed = filter.trim();
  if (trimmed === "") return matchAllKeys;
  if (trimmed.length > maxLength) return `routing_key_filter is ${trimmed.length} characters; the limit is ${maxLength}`;
  const alternatives: SegmentToken[][] = [];
  let matchesAll = false;
  for (const part of trimmed.split(",")) {
    // Every part is checked, even after one that matches everything: a bad pattern is always refused.
    const tokens = compileOne(part.trim());
    if (typeof tokens === "string") return tokens;
    if (tokens.length === 1 && tokens[0] === ANY_SEGMENTS) matchesAll = true;
    alternatives.push(tokens);
  }
  if (matchesAll) return matchAllKeys;
  const nfa = compileSegments(alternatives);
  return (segs) => nfa.matches(segs);
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
