// Patterns with at most one ANY_SEGMENTS ("**", "#"): the tokens before it
// must match the first segments and the tokens after it the last ones, so a
// pattern is one comparison per token, with no search and nothing to go back
// to. Every ordinary filter is of this shape; a list ("revision.created,edge.*")
// tries its patterns in turn, so the work is at most one token test per token
// of the whole list.

import { globTester } from "./globSet.js";
import { matchCost } from "./matchCost.js";
import { ANY_SEGMENTS, ONE_SEGMENT, type SegmentMatcher, type SegmentToken } from "./segmentToken.js";

/** A token test: a literal to compare, ONE_SEGMENT, or a glob's test. */
type Test = string | typeof ONE_SEGMENT | ((seg: string) => boolean);

function passes(test: Test, seg: string): boolean {
  return typeof test === "string" ? test === seg : test === ONE_SEGMENT || test(seg);
}

/** One pattern: `head` matches the first segments, `tail` (when there is an ANY_SEGMENTS) the last ones. */
class Anchored implements SegmentMatcher {
  private readonly head: Test[];
  /** Undefined without ANY_SEGMENTS: then the pattern has exactly head.length segments. */
  private readonly tail: Test[] | undefined;
  /**
   * Steps of a match: per token one, plus its length (at most that many characters compared; a
   * glob with several "*" counts its own search on top).
   */
  readonly steps: number;

  constructor(alt: readonly SegmentToken[], toTest: (tok: SegmentToken) => Test) {
    const split = alt.indexOf(ANY_SEGMENTS);
    this.head = (split < 0 ? alt : alt.slice(0, split)).map(toTest);
    this.tail = split < 0 ? undefined : alt.slice(split + 1).map(toTest);
    this.steps = alt.reduce(
      (sum: number, tok) => sum + 1 + (typeof tok === "string" ? tok.length : typeof tok === "object" ? tok.glob.length : 0),
      0,
    );
  }

  matches(segs: readonly string[]): boolean {
    matchCost.steps += this.steps;
    return this.test(segs);
  }

  test(segs: readonly string[]): boolean {
    const head = this.head;
    const tail = this.tail;
    const n = segs.length;
    if (tail ? n < head.length + tail.length : n !== head.length) return false;
    for (let i = 0; i < head.length; i++) if (!passes(head[i] as Test, segs[i] as string)) return false;
    if (tail) {
      const from = n - tail.length;
      for (let i = 0; i < tail.length; i++) if (!passes(tail[i] as Test, segs[from + i] as string)) return false;
    }
    return true;
  }
}

/** A list of patterns, tried in turn. */
class AnyOf implements SegmentMatcher {
  private readonly steps: number;

  constructor(private readonly patterns: Anchored[]) {
    this.steps = patterns.reduce((sum, p) => sum + p.steps, 0);
  }

  matches(segs: readonly string[]): boolean {
    matchCost.steps += this.steps;
    for (const p of this.patterns) if (p.test(segs)) return true;
    return false;
  }
}

/** Compiles patterns that each have at most one ANY_SEGMENTS. */
export function compileAnchored(alternatives: readonly (readonly SegmentToken[])[]): SegmentMatcher {
  let testers: Map<string, (seg: string) => boolean> | undefined;
  const toTest = (tok: SegmentToken): Test => {
    if (typeof tok === "string" || tok === ONE_SEGMENT || tok === ANY_SEGMENTS) return tok as Test;
    testers ??= new Map();
    if (!testers.has(tok.glob)) testers.set(tok.glob, globTester(tok.glob));
    return testers.get(tok.glob) as (seg: string) => boolean;
  };
  const patterns = alternatives.map((alt) => new Anchored(alt, toTest));
  return patterns.length === 1 ? (patterns[0] as Anchored) : new AnyOf(patterns);
}
