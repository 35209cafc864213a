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
