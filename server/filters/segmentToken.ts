// The tokens filter patterns compile to, and what a compiled pattern offers:
// shared by the two matchers (anchoredSegments.ts, segmentNfa.ts) and the two
// filter kinds (krefFilter.ts, routingKeyFilter.ts).

/** "**" (kref) or "#" (routing key): any number of segments, none included. */
export const ANY_SEGMENTS = 0;
/** "*" as a whole segment: exactly one segment, whatever it holds. */
export const ONE_SEGMENT = 1;
/** A glob within one segment ("sh01*"): one segment, all of which the glob matches. No two "*" in a row. */
export interface SegmentGlob {
  glob: string;
}
/** A pattern token; a string is a literal segment. */
export type SegmentToken = string | typeof ANY_SEGMENTS | typeof ONE_SEGMENT | SegmentGlob;

/** Compiled patterns: {@link SegmentMatcher.matches} says whether an event's segments match one of them. */
export interface SegmentMatcher {
  matches(segs: readonly string[]): boolean;
}
