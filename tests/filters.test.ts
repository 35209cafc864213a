import { describe, expect, it } from "vitest";
import { compileEventFilter } from "../server/filters/eventFilter.js";
import { compileKrefFilter } from "../server/filters/krefFilter.js";
import { compileRoutingKeyFilter } from "../server/filters/routingKeyFilter.js";

function rk(filter: string, key: string): boolean {
  const m = compileRoutingKeyFilter(filter, 1024);
  if (typeof m === "string") throw new Error(m);
  return m(key.split("."));
}

function kref(filter: string, uri: string): boolean {
  const m = compileKrefFilter(filter, 1024);
  if (typeof m === "string") throw new Error(m);
  const body = uri.slice("kref://".length);
  const q = body.indexOf("?");
  return m.matches((q < 0 ? body : body.slice(0, q)).split("/"), q < 0 ? "" : body.slice(q + 1));
}

describe("routing-key filter", () => {
  it.each([
    ["", "revision.created", true],
    ["revision.*", "revision.tagged", true],
    ["revision.*", "revision.metadata.updated", false],
    ["revision.*", "revision", false],
    ["item.#", "item.model.created", true],
    ["item.#", "item", true],
    ["item.**", "item.model.created", true],
    ["item.**", "items.model", false],
    ["*", "project", true],
    ["*", "project.created", false],
    ["#", "a.b.c", true],
    ["*.created", "item.created", true],
    ["*.created", "item.model.created", false],
    ["#.created", "item.model.created", true],
    ["#.created", "created", true],
    ["a.#.z", "a.z", true],
    ["a.#.z", "a.b.c.z", true],
    ["a.#.z", "a.b.c.y", false],
    ["revision.created,edge.*", "edge.deleted", true],
    ["revision.created, edge.*", "edge.deleted", true],
    ["revision.created,edge.*", "revision.tagged", false],
    ["revision.created", "revision.created", true],
    ["revision.created", "revision.created.x", false],
    ["#.#.x", "x", true],
  ])("%j against %j -> %s", (filter, key, expected) => {
    expect(rk(filter, key)).toBe(expected);
  });

  it.each([
    ["revision.tag*", /segment "tag\*"/],
    ["Revision.created", /must be \[a-z0-9_-\]\+/],
    ["a..b", /segment ""/],
    ["a,,b", /empty pattern/],
    // A match-all part does not excuse a bad one, whichever comes first.
    ["#,Bad Key!", /must be \[a-z0-9_-\]\+/],
    ["Bad Key!,#", /must be \[a-z0-9_-\]\+/],
    ["**,a..b", /segment ""/],
  ])("rejects %j with a message", (filter, message) => {
    const m = compileRoutingKeyFilter(filter, 1024);
    expect(typeof m).toBe("string");
    expect(m).toMatch(message);
  });

  it("rejects filters over the length cap", () => {
    expect(compileRoutingKeyFilter(`a.${"b.".repeat(600)}c`, 1024)).toMatch(/the limit is 1024/);
  });

  it("stays fast on adversarial multi-wildcard patterns", () => {
    // Would take exponential time with a naive backtracking matcher.
    const pattern = Array.from({ length: 40 }, () => "#.a").join(".");
    const key = Array.from({ length: 200 }, () => "a").join(".");
    expect(rk(pattern, `${key}.b`)).toBe(false);
  });
});

describe("kref filter", () => {
  it.each([
    ["", "kref://film/shots/sh010.model?r=3", true],
    ["kref://film/**", "kref://film/shots/sh010.model?r=3", true],
    ["kref://film/**", "kref://other/shots/sh010.model", false],
    ["kref://film/**/*.model", "kref://film/shots/sh010.model?r=3", true],
    ["kref://film/**/*.model", "kref://film/shots/seq1/sh010.model", true],
    ["kref://film/**/*.model", "kref://film/shots/sh010.rig", false],
    ["kref://film/*/*.model", "kref://film/shots/seq1/sh010.model", false],
    ["kref://film/shots/*", "kref://film/shots/sh010.model?r=1&a=main", true],
    ["kref://film/chars/hero.rig?r=*", "kref://film/chars/hero.rig?r=7", true],
    ["kref://film/chars/hero.rig?r=*", "kref://film/chars/hero.rig", false],
    ["kref://film/chars/hero.rig?r=*", "kref://film/chars/hero.rig?r=7&a=main", false],
    ["kref://film/chars/hero.rig?r=*&a=*", "kref://film/chars/hero.rig?r=7&a=main", true],
    ["kref://film/chars/hero.rig?r=3", "kref://film/chars/hero.rig?r=33", false],
    ["kref://film/**?r=1*", "kref://film/a/b.c?r=12", true],
    ["film/**", "kref://film/x.y", true],
    ["kref://**", "kref://anything/at/all.x?r=1", true],
    // "**" matches zero segments too, as "item.#" matches "item".
    ["kref://film/**", "kref://film", true],
    ["kref://film/**/sh010.model", "kref://film/sh010.model", true],
    ["kref://film/sh*.model", "kref://film/sh010.model", true],
    ["kref://film/sh*.model", "kref://film/sh010.rig", false],
    ["kref://film/*0*0*", "kref://film/sh010.model", true],
    ["kref://film/*0*0*", "kref://film/sh01.model", false],
    ["kref://film/a*a", "kref://film/a", false],
    ["kref://film/a*a", "kref://film/aa", true],
    ["kref://film/*.*", "kref://film/noext", false],
    ["kref://*/shots/**", "kref://game/shots/x/y.z", true],
    ["kref://*/shots/**", "kref://game/assets/x.z", false],
  ])("%j against %j -> %s", (filter, uri, expected) => {
    expect(kref(filter, uri)).toBe(expected);
  });

  it.each([
    ["kref://film/+(a|aa)", /may only use letters/],
    ["kref://film/@(x)", /may only use letters/],
    ["kref://film/{a,b}/**", /may only use letters/],
    ["kref://film/[ab]/**", /may only use letters/],
    ["kref://!film/**", /may only use letters/],
    ["kref://film/a\\b", /may only use letters/],
    ["kref://film//x", /empty path segment/],
    ["kref://film/x?r=(1)", /query part/],
    ["kref://film/../secret", /\.\./],
    ["kref://film/\u0001", /control characters/],
  ])("rejects %j with a message", (filter, message) => {
    const m = compileKrefFilter(filter, 1024);
    expect(typeof m).toBe("string");
    expect(m).toMatch(message);
  });

  it("rejects filters over the length cap", () => {
    expect(compileKrefFilter(`kref://${"a/".repeat(100)}x`, 64)).toMatch(/the limit is 64/);
  });

  it("stays fast on adversarial wildcard patterns (a regex glob backtracks for seconds here)", () => {
    const long = "a".repeat(1000);
    expect(kref("kref://p/*a*a*a*a*a*ab", `kref://p/${long}`)).toBe(false);
    expect(kref(`kref://${"**/a/".repeat(60)}b`, `kref://${"a/".repeat(400)}c`)).toBe(false);
    expect(kref("kref://p/*a*a*a*a*a*a", `kref://p/${long}`)).toBe(true);
  });
});

describe("compiled filters", () => {
  it("give identical filters the same key so they are matched once per event", () => {
    const a = compileEventFilter("revision.*", "kref://film/**", 1024);
    const b = compileEventFilter(" revision.* ", "kref://film/**", 1024);
    const c = compileEventFilter("revision.*", "kref://other/**", 1024);
    if (typeof a === "string" || typeof b === "string" || typeof c === "string") throw new Error("compile failed");
    expect(a.key).toBe(b.key);
    expect(a.key).not.toBe(c.key);
  });

  it("treat # and empty filters as match-all", () => {
    const f = compileEventFilter("#", "kref://**", 1024);
    if (typeof f === "string") throw new Error(f);
    expect(f.matchesAll).toBe(true);
  });
});

describe("kref filters with Unicode segments and root-level spaces", () => {
  it.each([
    ["kref://영화/**", "kref://영화/샷/sh010.model?r=3", true],
    ["kref://영화/**", "kref://film/sh010.model", false],
    ["kref://영화/샷/*.model", "kref://영화/샷/장면1.model", true],
    ["kref://café/scène/*", "kref://café/scène/plan.model?r=2&a=main", true],
    ["kref://*/scè*/plan.*", "kref://café/scène/plan.model", true],
    ["kref://*/scè*/plan.*", "kref://café/scene/plan.model", false],
    ["kref://영*/**", "kref://영화/x.y", true],
    ["kref://*화/**", "kref://영화/x.y", true],
    ["kref://*화/**", "kref://화영/x.y", false],
    // Astral characters are one character each: "*" never splits them.
    ["kref://p/𝐀*𝐁", "kref://p/𝐀x𝐁", true],
    ["kref://p/*𝐁", "kref://p/𝐀", false],
    ["kref://film/x.y?r=*", "kref://film/x.y?r=٣", true],
    ["kref://film/x.y?r=٣", "kref://film/x.y?r=٣", true],
    // Root-level spaces: an empty project.
    ["kref:///shots/**", "kref:///shots/seq1", true],
    ["kref:///shots/**", "kref:///shots", true],
    ["kref:///shots/**", "kref://film/shots/seq1", false],
    ["kref://film/**", "kref:///film/shots", false],
    ["kref://**/shots/**", "kref:///shots/seq1", true],
    // "*" is any characters, none included: it matches a root-level kref's empty project too.
    ["kref://*/shots/**", "kref:///shots/seq1", true],
  ])("%j against %j -> %s", (filter, uri, expected) => {
    expect(kref(filter, uri)).toBe(expected);
  });

  it.each([
    ["kref://영화/😀/**", /may only use letters/],
    ["kref://film/e\u0301/**", /may only use letters/],
    ["kref:////shots", /empty path segment/],
    ["kref:///", /empty path segment/],
    ["kref://film/**?r=\u{1F600}", /query part/],
  ])("rejects %j with a message", (filter, message) => {
    const m = compileKrefFilter(filter, 1024);
    expect(typeof m).toBe("string");
    expect(m).toMatch(message);
  });

  it("indexes a root-level filter under its empty project", () => {
    const f = compileKrefFilter("kref:///shots/**", 1024);
    if (typeof f === "string") throw new Error(f);
    expect(f.literalPrefix).toEqual(["", "shots"]);
  });
});

// References for differential testing: globs translated into regular expressions (small
// inputs: a backtracking engine is fine there), and a plain dynamic program (any size).
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function splitKref(uri: string): [string, string] {
  const body = uri.slice("kref://".length);
  const q = body.indexOf("?");
  return [q < 0 ? body : body.slice(0, q), q < 0 ? "" : body.slice(q + 1)];
}

function regexKref(filter: string, uri: string): boolean {
  const body = filter.startsWith("kref://") ? filter.slice("kref://".length) : filter;
  const q = body.indexOf("?");
  const pathPattern = q < 0 ? body : body.slice(0, q);
  const segment = (seg: string) => (seg === "**" ? "(?:/[^/]*)*" : `/${seg.split("*").map(escapeRegex).join("[^/]*")}`);
  const [path, query] = splitKref(uri);
  if (!new RegExp(`^${pathPattern.split("/").map(segment).join("")}$`, "u").test(`/${path}`)) return false;
  if (q < 0) return true;
  return (
    query !== "" &&
    new RegExp(
      `^${body
        .slice(q + 1)
        .split("*")
        .map(escapeRegex)
        .join("[^&]*")}$`,
      "u",
    ).test(query)
  );
}

function globDp(glob: string, text: string): boolean {
  const g = [...glob];
  const t = [...text];
  // ok[j]: g[0, i) matches t[0, j)
  let ok = t.map(() => false).concat(false);
  ok[0] = true;
  for (const ch of g) {
    const next = ok.map(() => false);
    for (let j = 0; j <= t.length; j++) {
      if (ch === "*") next[j] = ok[j] || (j > 0 && next[j - 1]) || false;
      else next[j] = j > 0 && ok[j - 1] === true && t[j - 1] === ch;
    }
    ok = next;
  }
  return ok[t.length] === true;
}

function dpKrefPath(pathPattern: string, path: string): boolean {
  const tokens = pathPattern.split("/");
  const segs = path.split("/");
  let ok = segs.map(() => false).concat(false);
  ok[0] = true;
  for (const tok of tokens) {
    const next = ok.map(() => false);
    for (let j = 0; j <= segs.length; j++) {
      if (tok === "**") next[j] = ok[j] || (j > 0 && next[j - 1]) || false;
      else next[j] = j > 0 && ok[j - 1] === true && globDp(tok, segs[j - 1] as string);
    }
    ok = next;
  }
  return ok[segs.length] === true;
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

// Distinct globs that all match "abc" (and some of them other segments too).
const manyGlobs = ["*a*", "*b*", "*c*", "a*", "*c", "*ab*", "*bc*", "a*c", "*a*c*", "ab*", "*bc", "a*b*", "*b*c", "*", "*abc*", "a*bc"];

describe("kref filter matching agrees with reference matchers", () => {
  const pick = <T>(next: () => number, xs: readonly T[]) => xs[Math.floor(next() * xs.length)] as T;
  const patternSegs = [
    "a",
    "b",
    "ab",
    "a.b",
    "영화",
    "café",
    "x_1",
    "*",
    "**",
    "a*",
    "*a",
    "*a*",
    "a*b",
    "*b*a*",
    "영*",
    "*화",
    "***",
    "*.b",
  ];
  const krefSegs = ["a", "b", "ab", "ba", "aab", "a.b", "영화", "café", "x_1", "abab", "bab.b"];
  const queryPatterns = ["r=*", "r=1", "r=1*", "r=*&a=*", "r=*&a=m*", "r=٣", "r=*&a=*i*"];
  const queries = ["", "r=1", "r=12", "r=1&a=main", "r=٣", "r=3&a=mix"];

  it("on 12,000 generated filters and krefs (a regular expression built from the glob)", () => {
    const next = rng(7);
    let matched = 0;
    for (let n = 0; n < 12_000; n++) {
      const root = next() < 0.1;
      const pSegs = Array.from({ length: 1 + Math.floor(next() * 5) }, () => pick(next, patternSegs));
      let filter = `kref://${root ? "/" : ""}${pSegs.join("/")}`;
      if (next() < 0.25) filter += `?${pick(next, queryPatterns)}`;
      const kSegs = Array.from({ length: 1 + Math.floor(next() * 6) }, () => pick(next, krefSegs));
      const query = pick(next, queries);
      const uri = `kref://${next() < 0.1 ? "/" : ""}${kSegs.join("/")}${query ? `?${query}` : ""}`;
      const expected = regexKref(filter, uri);
      if (expected) matched++;
      expect([filter, uri, kref(filter, uri)]).toEqual([filter, uri, expected]);
    }
    expect(matched).toBeGreaterThan(250); // the generator reaches matches too, not only misses
  });

  it("on adversarial shapes (a dynamic program)", () => {
    const next = rng(11);
    const shapes = [
      (k: number) => `**/${"*a*/".repeat(k)}b`,
      (k: number) => `**/${"*a*/".repeat(k)}**/a`,
      (k: number) => `**/${"a/".repeat(k)}b`,
      (k: number) => `${"**/a/".repeat(k)}**`,
      (k: number) => `**/${Array.from({ length: k }, (_, i) => `*${"abc"[i % 3]}*${"abc"[(i + 1) % 3]}*`).join("/")}`,
      (k: number) => `p/*${"a*".repeat(k)}b`,
      (k: number) => `**/${Array.from({ length: k }, (_, i) => (i % 3 === 0 ? "*" : i % 3 === 1 ? "a*" : "*a")).join("/")}/**`,
      // Many distinct globs, many of them live at once: the automaton that runs them all together.
      (k: number) => `**/${Array.from({ length: k }, (_, i) => manyGlobs[i % manyGlobs.length]).join("/")}`,
      (k: number) => `**/${Array.from({ length: k }, (_, i) => manyGlobs[(i * 7) % manyGlobs.length]).join("/")}/**/*c`,
      // Many live positions of one glob, in a pattern with many globs.
      (k: number) => `**/${"*a*/".repeat(k)}${manyGlobs.join("/")}`,
    ];
    const krefs = [
      (k: number) => `${"a/".repeat(k)}c.d`,
      (k: number) => `${"a/".repeat(k)}b`,
      (k: number) => `${"a/".repeat(k)}a`,
      (k: number) => `p/${"a".repeat(k)}`,
      (k: number) => `p/${"a".repeat(k)}b`,
      (k: number) => Array.from({ length: k }, (_, i) => "abcab".slice(i % 3, (i % 3) + 2)).join("/"),
      (k: number) => Array.from({ length: k }, (_, i) => (i % 11 === 10 ? "abd" : "abc")).join("/"),
      (k: number) => Array.from({ length: k }, (_, i) => ["abc", "a", "c", "bc", "ac", "abcabc"][i % 6]).join("/"),
      (k: number) => `${"a/".repeat(k)}${Array.from({ length: manyGlobs.length }, () => "abc").join("/")}`,
    ];
    for (let n = 0; n < 600; n++) {
      const pattern = pick(next, shapes)(1 + Math.floor(next() * 40));
      const path = pick(next, krefs)(1 + Math.floor(next() * 80));
      const got = kref(`kref://${pattern}`, `kref://${path}`);
      expect([pattern, path, got]).toEqual([pattern, path, dpKrefPath(pattern, path)]);
    }
  });
});

describe("routing-key filter matching agrees with a regular expression built from it", () => {
  it("on 12,000 generated filters and keys", () => {
    const next = rng(3);
    const pieces = ["a", "b", "c", "*", "#", "**"];
    const toRegex = (pattern: string) =>
      pattern
        .split(".")
        .map((seg) => (seg === "*" ? "\\.[^.]+" : seg === "#" || seg === "**" ? "(?:\\.[^.]+)*" : `\\.${seg}`))
        .join("");
    for (let n = 0; n < 12_000; n++) {
      const patterns = Array.from({ length: 1 + Math.floor(next() * 3) }, () =>
        Array.from({ length: 1 + Math.floor(next() * 5) }, () => pieces[Math.floor(next() * pieces.length)]).join("."),
      );
      const key = Array.from({ length: 1 + Math.floor(next() * 6) }, () => "abc"[Math.floor(next() * 3)]).join(".");
      const expected = patterns.some((p) => new RegExp(`^${toRegex(p)}$`).test(`.${key}`));
      expect([patterns.join(","), key, rk(patterns.join(","), key)]).toEqual([patterns.join(","), key, expected]);
    }
  });

  it("on long lists and long patterns (several words of automaton state)", () => {
    const list = Array.from({ length: 40 }, (_, i) => `a.#.k${i}`).join(",");
    expect(rk(list, "a.x.y.k39")).toBe(true);
    expect(rk(list, "a.x.y.k40")).toBe(false);
    const long = `#.${Array.from({ length: 60 }, () => "a").join(".")}.b`;
    expect(rk(long, `${Array.from({ length: 70 }, () => "a").join(".")}.b`)).toBe(true);
    expect(rk(long, `${Array.from({ length: 59 }, () => "a").join(".")}.b`)).toBe(false);
  });
});
