// A filter's segment globs ("sh01*", "*.model", "*a*b*": "*" is any run of
// characters within one segment), evaluated against one segment at a time.
//
// Issue #12: a glob was tested once per (pattern token, kref segment) pair,
// and a pattern of 250 "*a*" tokens against 500 segments took 2 ms per event.
// Here each distinct glob is evaluated at most once per segment, and never in
// more than linear time:
// - one glob at a time, greedily: its literal chunks placed leftmost, in
//   order. Leftmost placement leaves the most room for the chunks after it,
//   so it never needs to go back, and the searches scan disjoint stretches
//   of the segment: O(segment) per glob, provided each search is linear
//   (indexOf for short chunks, Knuth-Morris-Pratt for long ones);
// - all globs at once, when the pattern has many and needs many of them for
//   the same segment: one bit-parallel NFA (Shift-And, Baeza-Yates and
//   Gonnet, with self-looping states for "*"), ⌈states / 32⌉ words per
//   character of the segment, however many globs there are.

import { matchCost } from "./matchCost.js";

/** Most globs tested one by one for a segment; past it they run as one automaton if that is cheaper. */
export const ONE_BY_ONE = 4;
/**
 * Middle chunks up to this length are found with indexOf: V8 scans for them in at most this many
 * steps per character, and it is faster than a Knuth-Morris-Pratt loop in JavaScript ("*0*0*" took
 * 44 % longer); longer ones, where indexOf's worst case is not linear, go through Knuth-Morris-Pratt.
 */
const SHORT_CHUNK = 8;

/** One glob, as its literal chunks: the first is a prefix, the last a suffix, the others appear in between. */
interface Greedy {
  prefix: string;
  suffix: string;
  /** The shortest segment it can match: prefix and suffix. */
  minLength: number;
  middle: string[];
  /** Knuth-Morris-Pratt failure function of each long middle chunk. */
  fail: (Int32Array | undefined)[];
}

/** All globs in one automaton: states laid out glob after glob, a start state then one per character or "*". */
interface Automaton {
  words: number;
  init: Int32Array;
  star: Int32Array;
  /** States followed by a "*" state: whatever reaches them reaches the "*" too, matching nothing. */
  beforeStar: Int32Array;
  final: Int32Array;
  /** Per ASCII character, `words` words: the states it matches. Other characters in a Map. */
  ascii: Int32Array;
  other: Map<number, Int32Array>;
  /** The glob each state belongs to. */
  owner: Int32Array;
  d: Int32Array;
  next: Int32Array;
}

/** A set of distinct segment globs; {@link GlobSet.match} says which of them match a segment. */
export class GlobSet {
  /** The globs that matched in the last {@link GlobSet.match}, as indices into the constructor's list. */
  readonly hits: number[];
  private readonly greedy: Greedy[];
  /** Only for a set too large to test one by one, and when cheaper than that. */
  private readonly nfa: Automaton | undefined;

  /** `globs` are distinct, each with at least one "*" and no two in a row. */
  constructor(globs: readonly string[]) {
    this.hits = new Array<number>(globs.length).fill(0);
    this.greedy = globs.map(toGreedy);
    if (globs.length > ONE_BY_ONE) {
      let states = 0;
      for (const g of globs) states += 1 + g.length;
      // Per character of a segment: one step per glob one by one, one per 32 states in the automaton.
      if (Math.ceil(states / 32) < globs.length) this.nfa = compile(globs);
    }
  }

  /**
   * How many globs are worth naming to {@link match} (as `only`) rather than running them all: as
   * many as the automaton has words, since one glob costs at most one step per character and the
   * automaton one per word per character. 0 when there is nothing to save (no automaton).
   */
  get selectLimit(): number {
    return this.nfa ? Math.max(ONE_BY_ONE, this.nfa.words) : 0;
  }

  /**
   * Fills {@link hits} with the globs that match all of `seg`; returns how many did. With `only`
   * (its first `onlyCount` entries: distinct glob indices), the others are not evaluated.
   */
  match(seg: string, only?: readonly number[], onlyCount = 0): number {
    if (!only && this.nfa) return this.matchAll(this.nfa, seg);
    const n = only ? onlyCount : this.greedy.length;
    let count = 0;
    let steps = 0;
    for (let k = 0; k < n; k++) {
      const g = only ? (only[k] as number) : k;
      const glob = this.greedy[g] as Greedy;
      steps += 1 + glob.minLength;
      if (seg.length >= glob.minLength && seg.startsWith(glob.prefix) && seg.endsWith(glob.suffix)) {
        if (glob.middle.length === 0) this.hits[count++] = g;
        else {
          const scanned = inBetween(glob, seg);
          steps += scanned < 0 ? -scanned : scanned;
          if (scanned > 0) this.hits[count++] = g;
        }
      }
    }
    matchCost.steps += steps;
    return count;
  }

  private matchAll(nfa: Automaton, seg: string): number {
    const { words, star, beforeStar, ascii } = nfa;
    let d = nfa.d;
    let next = nfa.next;
    d.set(nfa.init);
    let i = 0;
    for (let alive = true; i < seg.length && alive; i++) {
      const c = seg.charCodeAt(i);
      let row = ascii;
      let at = c * words;
      if (c >= 128) {
        row = nfa.other.get(c) ?? ZERO;
        at = 0;
      }
      let carry = 0;
      let epsilon = 0;
      let any = 0;
      for (let w = 0; w < words; w++) {
        const dw = d[w] as number;
        const sw = star[w] as number;
        let nw = (((dw << 1) | carry) & ((row[at + w] as number) | 0 | sw)) | (dw & sw);
        carry = dw >>> 31;
        // A "*" matches nothing too: whatever reaches the state before it reaches it.
        const e = nw & (beforeStar[w] as number);
        nw |= (e << 1) | epsilon;
        epsilon = e >>> 31;
        next[w] = nw;
        any |= nw;
      }
      alive = any !== 0;
      const t = d;
      d = next;
      next = t;
    }
    nfa.d = d;
    nfa.next = next;
    matchCost.steps += (i + 1) * words;
    let count = 0;
    for (let w = 0; w < words; w++) {
      for (let m = (d[w] as number) & (nfa.final[w] as number); m !== 0; m &= m - 1) {
        this.hits[count++] = nfa.owner[w * 32 + 31 - Math.clz32(m & -m)] as number;
      }
    }
    return count;
  }
}

/**
 * A test of one glob against a segment: inline for a single "*" (prefix and suffix: the common
 * "*.model", "sh01*"; the caller counts its steps, at most the glob's length), else through a
 * GlobSet of one.
 */
export function globTester(glob: string): (seg: string) => boolean {
  const chunks = glob.split("*");
  if (chunks.length === 2) {
    const [prefix, suffix] = chunks as [string, string];
    const min = prefix.length + suffix.length;
    return (seg) => seg.length >= min && seg.startsWith(prefix) && seg.endsWith(suffix);
  }
  const set = new GlobSet([glob]);
  return (seg) => set.match(seg) > 0;
}

function toGreedy(glob: string): Greedy {
  const chunks = glob.split("*");
  const prefix = chunks[0] as string;
  const suffix = chunks[chunks.length - 1] as string;
  const middle = chunks.slice(1, -1);
  return {
    prefix,
    suffix,
    minLength: prefix.length + suffix.length,
    middle,
    fail: middle.map((c) => (c.length > SHORT_CHUNK ? failure(c) : undefined)),
  };
}

/** fail[j]: the length of the longest proper border of chunk[0, j]. */
function failure(chunk: string): Int32Array {
  const fail = new Int32Array(chunk.length);
  for (let j = 1, k = 0; j < chunk.length; j++) {
    while (k > 0 && chunk.charCodeAt(j) !== chunk.charCodeAt(k)) k = fail[k - 1] as number;
    if (chunk.charCodeAt(j) === chunk.charCodeAt(k)) k++;
    fail[j] = k;
  }
  return fail;
}

/**
 * Whether the glob's middle chunks appear in order between its prefix and suffix (which the caller
 * checked), each at its leftmost place after the one before: the steps it took, negated when they
 * do not. Matching by UTF-16 unit is matching by character: both sides are well-formed, so a chunk
 * only lines up with whole characters.
 */
function inBetween(g: Greedy, seg: string): number {
  const end = seg.length - g.suffix.length;
  let at = g.prefix.length;
  let steps = 1;
  let ok = true;
  for (let c = 0; c < g.middle.length && ok; c++) {
    const chunk = g.middle[c] as string;
    // The next chunk starts where this one ended.
    if (chunk.length <= SHORT_CHUNK) {
      const found = seg.indexOf(chunk, at);
      ok = found >= 0 && found + chunk.length <= end;
      steps += ((found < 0 ? seg.length : found) - at + 1) * chunk.length;
      at = found + chunk.length;
      continue;
    }
    // Knuth-Morris-Pratt: at most two steps per character scanned.
    let j = 0;
    let t = at;
    for (; t < end && j < chunk.length; t++) {
      const ch = seg.charCodeAt(t);
      while (j > 0 && ch !== chunk.charCodeAt(j)) {
        j = (g.fail[c] as Int32Array)[j - 1] as number;
        steps++;
      }
      if (ch === chunk.charCodeAt(j)) j++;
      steps++;
    }
    ok = j === chunk.length;
    at = t;
  }
  return ok ? steps : -steps;
}

const ZERO = new Int32Array(0);

function compile(globs: readonly string[]): Automaton {
  let states = 0;
  for (const g of globs) states += 1 + g.length;
  const words = Math.ceil(states / 32);
  const mask = () => new Int32Array(words);
  const set = (m: Int32Array, s: number, offset = 0) => {
    m[offset + (s >>> 5)] = (m[offset + (s >>> 5)] as number) | (1 << (s & 31));
  };
  const nfa: Automaton = {
    words,
    init: mask(),
    star: mask(),
    beforeStar: mask(),
    final: mask(),
    ascii: new Int32Array(128 * words),
    other: new Map(),
    owner: new Int32Array(words * 32),
    d: mask(),
    next: mask(),
  };
  let s = 0;
  globs.forEach((glob, index) => {
    let prev = s++;
    nfa.owner[prev] = index;
    set(nfa.init, prev);
    for (let i = 0; i < glob.length; i++) {
      const c = glob.charCodeAt(i);
      const at = s++;
      nfa.owner[at] = index;
      if (c === 42) {
        set(nfa.star, at);
        set(nfa.beforeStar, prev);
        // A leading "*" matches nothing at first: active from the start, with its start state.
        if (i === 0) set(nfa.init, at);
      } else if (c < 128) set(nfa.ascii, at, c * words);
      else {
        if (!nfa.other.has(c)) nfa.other.set(c, mask());
        set(nfa.other.get(c) as Int32Array, at);
      }
      prev = at;
    }
    set(nfa.final, prev);
  });
  return nfa;
}
