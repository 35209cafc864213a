// The matcher both filter kinds share: pattern tokens against an event's
// segments (routing-key parts, kref path parts), where ANY_SEGMENTS ("#" or
// "**") matches zero or more segments and any other token exactly one. Classic
// wildcard matching that backtracks only to the last ANY_SEGMENTS, so it takes
// O(tokens x segments) at worst: no pattern can make it blow up.

/** The token for "any number of segments, zero included". */
export const ANY_SEGMENTS = 0;

/** Whether `segs` match `tokens`; `one` says whether a single-segment token matches a segment. */
export function matchSegments<T>(
  tokens: readonly (T | typeof ANY_SEGMENTS)[],
  segs: readonly string[],
  one: (tok: T, seg: string) => boolean,
): boolean {
  let t = 0;
  let s = 0;
  let starT = -1;
  let starS = 0;
  while (s < segs.length) {
    const tok = tokens[t];
    if (tok === ANY_SEGMENTS) {
      starT = t++;
      starS = s;
    } else if (tok !== undefined && one(tok as T, segs[s] as string)) {
      t++;
      s++;
    } else if (starT >= 0) {
      t = starT + 1;
      s = ++starS;
    } else return false;
  }
  while (tokens[t] === ANY_SEGMENTS) t++;
  return t === tokens.length;
}
