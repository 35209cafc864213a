// Filter patterns with two or more ANY_SEGMENTS ("**", "#"), which need a
// search: a bit-parallel NFA over segments (Shift-And, Baeza-Yates and
// Gonnet, with self-loops for ANY_SEGMENTS), one bit per pattern token, all
// of them advanced at once per segment. Each segment is compared or hashed
// once against the pattern's distinct literals, and its distinct globs are
// evaluated once on it (GlobSet), however many tokens share them. Per event
// and filter that is ⌈states / 32⌉ words per segment, plus literal and glob
// work linear in the segment: no pattern can make it backtrack. The
// backtracking matcher it replaces took O(tokens x segments) token tests:
// 2 ms per event for the pattern of issue #12 ("**/" + "*a*/" x 250 + "b0"
// against "a/" x 500 + "c.d").

import { GlobSet } from "./globSet.js";
import { matchCost } from "./matchCost.js";
import { ANY_SEGMENTS, ONE_SEGMENT, type SegmentMatcher, type SegmentToken } from "./segmentToken.js";

/** Most distinct literals compared one by one; past it a segment is looked up in a Map. */
const COMPARE_LIMIT = 4;

/** What compile() works out, each mask as one number per 32 states. */
interface Layout {
  words: number;
  start: number[];
  loop: number[];
  accept: number[];
  /** Every state but the start states: what a segment can move into. */
  tokens: number[];
  oneSegment: number[];
  literalStates: number[];
  globStates: number[];
  literals: Map<string, number[]>;
  globs: Map<string, number[]>;
  /** Per state, the index of its glob in `globs` (insertion order), or -1. */
  globOf: number[];
}

/** Compiles patterns (`alternatives`: a list matches when any of its patterns does) into an automaton. */
export function compileSegmentNfa(alternatives: readonly (readonly SegmentToken[])[]): SegmentMatcher {
  const layout = lay(alternatives);
  return layout.words === 1 ? new OneWordNfa(layout) : new WordsNfa(layout);
}

// Per alternative a start state, then one state per token but ANY_SEGMENTS, which is a self-loop on
// the state before it (so that it also matches no segment at all).
function lay(alternatives: readonly (readonly SegmentToken[])[]): Layout {
  let states = 0;
  for (const alt of alternatives) states += 1 + alt.filter((t) => t !== ANY_SEGMENTS).length;
  const words = Math.ceil(states / 32);
  const mask = () => new Array<number>(words).fill(0);
  const set = (m: number[], s: number) => {
    m[s >>> 5] = (m[s >>> 5] as number) | (1 << (s & 31));
  };
  const l: Layout = {
    words,
    start: mask(),
    loop: mask(),
    accept: mask(),
    tokens: mask(),
    oneSegment: mask(),
    literalStates: mask(),
    globStates: mask(),
    literals: new Map(),
    globs: new Map(),
    globOf: new Array<number>(words * 32).fill(-1),
  };
  const globIndex = new Map<string, number>();
  let s = 0;
  for (const alt of alternatives) {
    let prev = s++;
    set(l.start, prev);
    for (const tok of alt) {
      if (tok === ANY_SEGMENTS) {
        set(l.loop, prev);
        continue;
      }
      const at = s++;
      set(l.tokens, at);
      if (tok === ONE_SEGMENT) set(l.oneSegment, at);
      else if (typeof tok === "string") {
        set(l.literalStates, at);
        if (!l.literals.has(tok)) l.literals.set(tok, mask());
        set(l.literals.get(tok) as number[], at);
      } else {
        set(l.globStates, at);
        if (!globIndex.has(tok.glob)) {
          globIndex.set(tok.glob, globIndex.size);
          l.globs.set(tok.glob, mask());
        }
        set(l.globs.get(tok.glob) as number[], at);
        l.globOf[at] = globIndex.get(tok.glob) as number;
      }
      prev = at;
    }
    set(l.accept, prev);
  }
  return l;
}

/** Whether `g` is among list[0, count). */
function listed(list: readonly number[], count: number, g: number): boolean {
  for (let k = 0; k < count; k++) if (list[k] === g) return true;
  return false;
}

/** Patterns of up to 32 states (start states included), i.e. every ordinary filter: masks are plain numbers. */
class OneWordNfa implements SegmentMatcher {
  private readonly start: number;
  private readonly loop: number;
  private readonly accept: number;
  private readonly tokens: number;
  private readonly oneSegment: number;
  private readonly literalStates: number;
  private readonly globStates: number;
  /** Per state, the literal it expects (up to COMPARE_LIMIT distinct literals), and that literal's states. */
  private readonly textOf: string[] | undefined;
  private readonly textMaskOf: number[] | undefined;
  private readonly textMap: Map<string, number> | undefined;
  private readonly globs: GlobSet | undefined;
  private readonly globMasks: number[];
  private readonly globOf: number[] | undefined;
  private readonly needed: number[] | undefined;

  constructor(l: Layout) {
    const one = (m: number[]) => m[0] as number;
    this.start = one(l.start);
    this.loop = one(l.loop);
    this.accept = one(l.accept);
    this.tokens = one(l.tokens);
    this.oneSegment = one(l.oneSegment);
    this.literalStates = one(l.literalStates);
    this.globStates = one(l.globStates);
    if (l.literals.size > COMPARE_LIMIT) this.textMap = new Map([...l.literals].map(([k, v]) => [k, one(v)]));
    else if (l.literals.size > 0) {
      this.textOf = new Array<string>(32).fill("");
      this.textMaskOf = new Array<number>(32).fill(0);
      for (const [text, m] of l.literals) {
        for (let bits = one(m); bits !== 0; bits &= bits - 1) {
          const s = 31 - Math.clz32(bits & -bits);
          this.textOf[s] = text;
          this.textMaskOf[s] = one(m);
        }
      }
    }
    this.globs = l.globs.size > 0 ? new GlobSet([...l.globs.keys()]) : undefined;
    this.globMasks = [...l.globs.values()].map(one);
    if (this.globs?.selectLimit) {
      this.globOf = l.globOf.slice(0, 32);
      this.needed = new Array<number>(this.globs.selectLimit).fill(0);
    }
  }

  /** The globs at the `positions` (a mask of glob states) into this.needed; their count, or -1 for more than worth it. */
  private select(positions: number): number {
    const needed = this.needed as number[];
    const globOf = this.globOf as number[];
    let count = 0;
    for (let m = positions; m !== 0; m &= m - 1) {
      const g = globOf[31 - Math.clz32(m & -m)] as number;
      if (!listed(needed, count, g)) {
        if (count === needed.length) return -1;
        needed[count++] = g;
      }
    }
    matchCost.steps += count;
    return count;
  }

  matches(segs: readonly string[]): boolean {
    const { tokens, loop, literalStates, globStates, oneSegment, textOf, textMaskOf } = this;
    let d = this.start;
    let steps = 0;
    for (let i = 0; i < segs.length && d !== 0; i++) {
      const seg = segs[i] as string;
      // The states a segment may move into: one past each active state.
      const active = (d << 1) & tokens;
      let b = oneSegment;
      if ((active & literalStates) !== 0) {
        if (textOf && textMaskOf) {
          // One comparison per distinct literal expected here: they are distinct, so one at most matches.
          for (let m = active & literalStates; m !== 0; ) {
            const s = 31 - Math.clz32(m & -m);
            steps++;
            if (seg === textOf[s]) {
              b |= textMaskOf[s] as number;
              break;
            }
            m &= ~(textMaskOf[s] as number);
          }
        } else {
          steps += seg.length;
          b |= (this.textMap as Map<string, number>).get(seg) ?? 0;
        }
      }
      const globPositions = active & globStates;
      if (globPositions !== 0) {
        const globs = this.globs as GlobSet;
        const count = this.needed ? this.select(globPositions) : -1;
        const n = count < 0 ? globs.match(seg) : globs.match(seg, this.needed, count);
        for (let k = 0; k < n; k++) b |= this.globMasks[globs.hits[k] as number] as number;
        steps += n;
      }
      d = (active & b) | (d & loop);
      steps++;
    }
    matchCost.steps += steps;
    return (d & this.accept) !== 0;
  }
}

/**
 * Longer patterns: masks of several 32-bit words, shifted with a carry. Each segment is looked up
 * among the literals and globs whether or not they are expected next (one pass over the words per
 * segment, rather than one more to find out).
 */
class WordsNfa implements SegmentMatcher {
  private readonly words: number;
  private readonly start: Int32Array;
  private readonly loop: Int32Array;
  private readonly accept: Int32Array;
  private readonly tokens: Int32Array;
  private readonly oneSegment: Int32Array;
  private readonly globStates: Int32Array;
  private readonly texts: string[];
  private readonly textMasks: Int32Array[];
  private readonly textMap: Map<string, Int32Array> | undefined;
  private readonly globs: GlobSet | undefined;
  private readonly globMasks: Int32Array[];
  private readonly globOf: Int32Array | undefined;
  private readonly needed: number[] | undefined;
  /** Whether the pattern has one-segment wildcards ("*" as a segment). */
  private readonly anyOneSegment: boolean;
  /** Scratch: the active states, the states a segment matches, the glob states it matches. */
  private readonly d: Int32Array;
  private readonly b: Int32Array;
  private readonly globbed: Int32Array;
  /** Per glob, the call of glob() in which it last matched. */
  private readonly matchedAt: Int32Array;
  private stamp = 0;

  constructor(l: Layout) {
    const words = l.words;
    this.words = words;
    const typed = (m: number[]) => Int32Array.from(m);
    this.start = typed(l.start);
    this.loop = typed(l.loop);
    this.accept = typed(l.accept);
    this.tokens = typed(l.tokens);
    this.oneSegment = typed(l.oneSegment);
    this.globStates = typed(l.globStates);
    this.texts = [...l.literals.keys()];
    this.textMasks = [...l.literals.values()].map(typed);
    this.textMap = l.literals.size > COMPARE_LIMIT ? new Map(this.texts.map((t, k) => [t, this.textMasks[k] as Int32Array])) : undefined;
    this.globs = l.globs.size > 0 ? new GlobSet([...l.globs.keys()]) : undefined;
    this.globMasks = [...l.globs.values()].map(typed);
    if (this.globs?.selectLimit) {
      this.globOf = Int32Array.from(l.globOf);
      this.needed = new Array<number>(this.globs.selectLimit).fill(0);
    }
    this.anyOneSegment = this.oneSegment.some((m) => m !== 0);
    this.d = new Int32Array(words);
    this.b = new Int32Array(words);
    this.globbed = new Int32Array(words);
    this.matchedAt = new Int32Array(this.globMasks.length);
  }

  /**
   * The globs at the active glob positions into this.needed; their count, or -1 when running them
   * all is cheaper. Looking costs a step per position, so it stops after as many as the whole set
   * would cost on this segment (⌈glob states / 32⌉ per character): selecting never more than doubles it.
   */
  private select(seg: string): number {
    const needed = this.needed as number[];
    const globOf = this.globOf as Int32Array;
    const budget = needed.length * (seg.length + 1);
    let count = 0;
    let seen = 0;
    let carry = 0;
    for (let w = 0; w < this.words && seen <= budget; w++) {
      // The glob states this segment may move into: one past each active state.
      const dw = this.d[w] as number;
      const active = ((dw << 1) | carry) & (this.globStates[w] as number);
      carry = dw >>> 31;
      for (let m = active; m !== 0; m &= m - 1) {
        if (++seen > budget) break;
        const g = globOf[w * 32 + 31 - Math.clz32(m & -m)] as number;
        if (!listed(needed, count, g)) {
          if (count === needed.length) {
            seen = budget + 1;
            break;
          }
          needed[count++] = g;
        }
      }
    }
    matchCost.steps += this.words + seen;
    return seen > budget ? -1 : count;
  }

  /** The mask of the literal states `seg` matches, if any. */
  private literal(seg: string): Int32Array | undefined {
    if (this.textMap) return this.textMap.get(seg);
    for (let k = 0; k < this.texts.length; k++) if (seg === this.texts[k]) return this.textMasks[k];
    return undefined;
  }

  /**
   * The mask of the glob states `seg` matches, if any: the union of the matched globs' masks, or,
   * when most globs matched, all glob states less the unmatched globs' (fewer masks to combine).
   */
  private glob(seg: string): Int32Array | undefined {
    const globs = this.globs as GlobSet;
    const count = this.needed ? this.select(seg) : -1;
    const n = count < 0 ? globs.match(seg) : globs.match(seg, this.needed, count);
    if (n === 0) return undefined;
    if (n === 1) return this.globMasks[globs.hits[0] as number];
    const total = this.globMasks.length;
    if (n === total) return this.globStates;
    const out = this.globbed;
    const words = this.words;
    if (2 * n <= total) {
      out.fill(0);
      for (let k = 0; k < n; k++) {
        const m = this.globMasks[globs.hits[k] as number] as Int32Array;
        for (let w = 0; w < words; w++) out[w] = (out[w] as number) | (m[w] as number);
      }
      matchCost.steps += n * words;
      return out;
    }
    const stamp = ++this.stamp;
    for (let k = 0; k < n; k++) this.matchedAt[globs.hits[k] as number] = stamp;
    out.set(this.globStates);
    for (let g = 0; g < total; g++) {
      if (this.matchedAt[g] === stamp) continue;
      const m = this.globMasks[g] as Int32Array;
      for (let w = 0; w < words; w++) out[w] = (out[w] as number) & ~(m[w] as number);
    }
    matchCost.steps += total + (total - n) * words;
    return out;
  }

  matches(segs: readonly string[]): boolean {
    const { words, d, loop, tokens } = this;
    d.set(this.start);
    let steps = words;
    let alive = 1;
    for (let i = 0; i < segs.length && alive !== 0; i++) {
      const seg = segs[i] as string;
      const b = this.matching(seg);
      steps += words + (this.textMap ? seg.length : this.texts.length);
      let carry = 0;
      alive = 0;
      for (let w = 0; w < words; w++) {
        // Shift-And: one past each active state, where the segment matches; and the self-loops.
        const dw = d[w] as number;
        const next = (((dw << 1) | carry) & (tokens[w] as number) & (b[w] as number)) | (dw & (loop[w] as number));
        carry = dw >>> 31;
        d[w] = next;
        alive |= next;
      }
    }
    matchCost.steps += steps;
    if (alive === 0) return false;
    for (let w = 0; w < words; w++) if (((d[w] as number) & (this.accept[w] as number)) !== 0) return true;
    return false;
  }

  /** The states `seg` matches: the one-segment wildcards', a literal's, the globs'. */
  private matching(seg: string): Int32Array {
    const lit = this.texts.length > 0 ? this.literal(seg) : undefined;
    const globbed = this.globs ? this.glob(seg) : undefined;
    if (!lit && !globbed) return this.oneSegment;
    if (!this.anyOneSegment && !(lit && globbed)) return (lit ?? globbed) as Int32Array;
    const b = this.b;
    for (let w = 0; w < this.words; w++) b[w] = (this.oneSegment[w] as number) | (lit?.[w] ?? 0) | (globbed?.[w] ?? 0);
    matchCost.steps += this.words;
    return b;
  }
}
