import { describe, expect, it } from "vitest";
import { FilterIndex } from "../server/fanout/filterIndex.js";
import { compileEventFilter, type EventFilter, type Matchable } from "../server/filters/eventFilter.js";

function filter(rk: string, kref: string): EventFilter {
  const f = compileEventFilter(rk, kref, 1024);
  if (typeof f === "string") throw new Error(f);
  return f;
}

function matchable(routingKey: string, kref: string): Matchable {
  const body = kref.slice("kref://".length);
  const q = body.indexOf("?");
  return {
    segments: routingKey.split("."),
    krefSegments: (q < 0 ? body : body.slice(0, q)).split("/"),
    krefQuery: q < 0 ? "" : body.slice(q + 1),
  };
}

// A deterministic spread of filter shapes: literal kref prefixes of several depths,
// wildcard-first krefs, routing-only filters, comma lists, and both together.
const krefPatterns = [
  "",
  "kref://film/**",
  "kref://film/shots/**",
  "kref://film/shots/sh01*.model",
  "kref://*/shots/**",
  "kref://game/**?r=2",
  "kref://**/x.rig",
];
const rkPatterns = ["", "revision.*", "revision.#", "item.model.created", "*.created", "item.#,revision.tagged", "#.updated"];
const events = [
  ["revision.created", "kref://film/shots/sh010.model?r=1"],
  ["revision.tagged", "kref://film/shots/sh020.model?r=2"],
  ["item.model.created", "kref://game/assets/x.rig?r=2"],
  ["revision.metadata.updated", "kref://film"],
  ["item", "kref://other/shots/a/b.c"],
  ["revision.created", "kref://game/shots/sh010.model?r=2&a=main"],
] as const;

describe("the fan-out's filter index", () => {
  it("offers every filter that matches an event as a candidate, each once, and skips filters of other prefixes", () => {
    const index = new FilterIndex<{ filter: EventFilter }>();
    const items = krefPatterns.flatMap((k) => rkPatterns.filter((r) => r || k).map((r) => ({ filter: filter(r, k) })));
    for (const item of items) index.add(item);
    let skipped = 0;
    for (const [rk, kref] of events) {
      const ev = matchable(rk, kref);
      const out: { filter: EventFilter }[] = [];
      index.candidates(ev, out);
      expect(new Set(out).size).toBe(out.length);
      const expected = items.filter((i) => i.filter.matches(ev));
      for (const item of expected) expect(out).toContain(item);
      skipped += items.length - out.length;
    }
    // The index must actually narrow the search, or it is not an index.
    expect(skipped).toBeGreaterThan(0);
  });

  it("meets one filter per event among 10,000 filters on distinct projects", () => {
    const index = new FilterIndex<{ filter: EventFilter }>();
    for (let i = 0; i < 10_000; i++) index.add({ filter: filter("", `kref://proj${i}/**`) });
    const out: { filter: EventFilter }[] = [];
    index.candidates(matchable("revision.created", "kref://proj4242/shots/sh001.model?r=1"), out);
    expect(out.map((i) => i.filter.krefFilter)).toEqual(["kref://proj4242/**"]);
  });

  it("files Unicode and root-level kref filters under their literal segments", () => {
    const index = new FilterIndex<{ filter: EventFilter }>();
    const korean = { filter: filter("", "kref://영화/샷/**") };
    const root = { filter: filter("", "kref:///shots/**") };
    const film = { filter: filter("", "kref://film/**") };
    for (const item of [korean, root, film]) index.add(item);
    const candidates = (kref: string) => {
      const out: { filter: EventFilter }[] = [];
      index.candidates(matchable("item.created", kref), out);
      return out.filter((i) => i.filter.matches(matchable("item.created", kref)));
    };
    expect(candidates("kref://영화/샷/장면.모델?r=2")).toEqual([korean]);
    expect(candidates("kref:///shots/seq1")).toEqual([root]);
    expect(candidates("kref://film/shots/seq1")).toEqual([film]);
  });

  it("forgets removed filters and prunes them", () => {
    const index = new FilterIndex<{ filter: EventFilter }>();
    const a = { filter: filter("", "kref://film/shots/**") };
    const b = { filter: filter("revision.*", "") };
    index.add(a);
    index.add(b);
    index.delete(a);
    index.delete(b);
    const out: { filter: EventFilter }[] = [];
    index.candidates(matchable("revision.created", "kref://film/shots/x.y"), out);
    expect(out).toEqual([]);
    expect(index.size).toBe(0);
  });
});
