// What both filter kinds compile to: pattern tokens matched against an event's
// segments (routing-key parts, kref path parts), where ANY_SEGMENTS ("#" or
// "**") matches zero or more segments and any other token exactly one.
//
// Patterns with at most one ANY_SEGMENTS (nearly all real ones: "revision.*",
// "item.#", "kref://film/**/*.model") need no search: their tokens before it
// match the first segments and those after it the last ones
// (anchoredSegments.ts). Others run as an automaton (segmentNfa.ts). Both take
// time linear in the event's segments for a given pattern: issue #12.

import { compileAnchored } from "./anchoredSegments.js";
import { compileSegmentNfa } from "./segmentNfa.js";
import { ANY_SEGMENTS, type SegmentMatcher, type SegmentToken } from "./segmentToken.js";

/** Compiles patterns (`alternatives`: a list matches when any of its patterns does). */
export function compileSegments(alternatives: readonly (readonly SegmentToken[])[]): SegmentMatcher {
  const anchored = alternatives.every((alt) => alt.filter((t) => t === ANY_SEGMENTS).length <= 1);
  return anchored ? compileAnchored(alternatives) : compileSegmentNfa(alternatives);
}
