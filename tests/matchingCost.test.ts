// Issue #12 ("Hostile input"): a tenant's filters must not be able to make
// matching expensive. The matchers count their work (server/filters/matchCost.ts);
// these tests bound that count, never wall-clock time.
import { describe, expect, it } from "vitest";
import { compileKrefFilter } from "../server/filters/krefFilter.js";
import { matchCost } from "../server/filters/matchCost.js";
import { compileRoutingKeyFilter } from "../server/filters/routingKeyFilter.js";

function compileKref(filter: string) {
  const f = compileKrefFilter(filter, 1 << 16);
  if (typeof f === "string") throw new Error(f);
  return f;
}

/** Whether `uri` matches `filter`, and the steps it took. */
function krefCost(filter: string | ReturnType<typeof compileKref>, uri: string): { matched: boolean; steps: number } {
  const f = typeof filter === "string" ? compileKref(filter) : filter;
  const body = uri.slice("kref://".length);
  const q = body.indexOf("?");
  const segments = (q < 0 ? body : body.slice(0, q)).split("/");
  const before = matchCost.steps;
  const matched = f.matches(segments, q < 0 ? "" : body.slice(q + 1));
  return { matched, steps: matchCost.steps - before };
}

function keyCost(filter: string, key: string): { matched: boolean; steps: number } {
  const f = compileRoutingKeyFilter(filter, 1 << 16);
  if (typeof f === "string") throw new Error(f);
  const before = matchCost.steps;
  const matched = f(key.split("."));
  return { matched, steps: matchCost.steps - before };
}

const repeat = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));

// The attack of the issue: 40 subscriptions of about 1,000 characters, one batch of 100 events.
const attackFilter = (n: number) => `kref://**/${"*a*/".repeat(250)}b${n}`;
const attackKref = `kref://${"a/".repeat(500)}c.d`;

describe("matching cost (issue #12)", () => {
  it("the issue's 40 filters against its batch of 100 krefs: each match in steps linear in kref + pattern", () => {
    // The backtracking matcher tested each of the 250 "*a*" tokens against up to 500 segments for each
    // of the 251 positions "**" could take: about 125,000 glob tests per match, 2 ms each.
    let most = 0;
    for (let n = 0; n < 40; n++) {
      const filter = attackFilter(n);
      const compiled = compileKref(filter);
      for (let e = 0; e < 100; e++) {
        const { matched, steps } = krefCost(compiled, attackKref);
        expect(matched).toBe(false);
        most = Math.max(most, steps / (filter.length + attackKref.length));
      }
    }
    expect(most).toBeLessThanOrEqual(2);
  });

  // The same attack and its variations at the real caps (krefs of at most 1,024 characters, filters of
  // STREAMGATE_MAX_FILTER_LENGTH's default 1,024): shapes that defeat a literal-prefix index, need the
  // automaton (two "**"), keep many pattern positions or many distinct globs alive at once, or make a
  // single glob search hard.
  const many = ["*a*", "*b*", "*c*", "a*", "*c", "*ab*", "*bc*", "a*c", "*a*c*", "ab*", "*bc", "a*b*", "*b*c", "*abc*", "a*bc"];
  it.each([
    ["the issue's filter", attackFilter(0), attackKref],
    ["the issue's filter with a second **", `kref://**/${"*a*/".repeat(249)}**/b0`, attackKref],
    ["** then 250 literals", `kref://**/${"a/".repeat(250)}**/b`, attackKref],
    ["** then 500 one-segment wildcards", `kref://**/${"*/".repeat(500)}**/b`, `kref://${"a/".repeat(500)}c`],
    ["200 x (**/a)", `kref://${"**/a/".repeat(200)}**/b`, `kref://${"a/".repeat(500)}c`],
    [
      "15 distinct globs, all alive",
      `kref://**/${repeat(150, (i) => many[i % many.length] as string).join("/")}/**/zz`,
      `kref://${repeat(254, () => "abc").join("/")}`,
    ],
    [
      "200 distinct two-letter globs",
      `kref://**/${repeat(200, (i) => `*${"abcdefghijklmnopqrstuvwxyz"[i % 26]}${"abcdefgh"[(i / 26) | 0]}*`).join("/")}/**/z`,
      `kref://${repeat(19, () => "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ").join("/")}`,
    ],
    ["one glob of 500 stars", `kref://p/*${"a*".repeat(500)}b`, `kref://p/${"a".repeat(999)}b`],
    ["a long chunk that nearly occurs everywhere", `kref://p/*${"a".repeat(500)}b*`, `kref://p/${"a".repeat(1000)}`],
    ["a query of 500 stars", `kref://**?r=*${"1*".repeat(500)}2`, `kref://p/x.y?r=${"1".repeat(1000)}`],
  ])("%s: at most 8 steps per character of kref and pattern", (_, filter, uri) => {
    expect(filter.length).toBeLessThanOrEqual(1024);
    expect(uri.length).toBeLessThanOrEqual(1024);
    const { steps } = krefCost(filter, uri);
    expect(steps).toBeLessThanOrEqual(8 * (filter.length + uri.length));
  });

  it.each([
    ["# then 120 literals", `#.${repeat(120, () => "a").join(".")}.b`, `${repeat(126, () => "a").join(".")}.c`],
    ["# then 120 literals then #", `#.${repeat(120, () => "a").join(".")}.#.b`, `${repeat(126, () => "a").join(".")}.c`],
    ["a list of 100 patterns", repeat(100, (i) => `#.a.#.x${i}`).join(","), `${repeat(120, () => "a").join(".")}.c`],
    ["# then 400 one-segment wildcards", `#.${repeat(400, () => "*").join(".")}.#.b`, `${repeat(126, () => "a").join(".")}.c`],
  ])("routing keys, %s: at most 8 steps per character of key and pattern", (_, filter, key) => {
    const { steps } = keyCost(filter, key);
    expect(steps).toBeLessThanOrEqual(8 * (filter.length + key.length));
  });

  it("grows linearly with the kref for a given pattern", () => {
    const filter = `kref://**/${"*a*/".repeat(60)}**/b0`;
    const steps = [250, 500, 1000, 2000].map((n) => krefCost(filter, `kref://${"a/".repeat(n)}c.d`).steps);
    for (let i = 1; i < steps.length; i++) expect((steps[i] as number) / (steps[i - 1] as number)).toBeLessThan(2.1);
  });
});
