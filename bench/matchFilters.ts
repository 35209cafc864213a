// Micro-benchmark of the per-event hot path outside the network: filter
// matching (ordinary filters, and the hostile shapes of issue #12) and the
// kref checks of Publish and of stored entries. Run with
//
//     npx tsx bench/matchFilters.ts [--quick] [--only text] [--json path]
//
// It prints one table of medians (ns per operation, over 9 rounds unless
// --quick) and writes them as JSON to bench/results/matchFilters-latest.json.
import { writeFileSync } from "node:fs";
import { isValidKref, isValidKrefBytes } from "../server/events/kref.js";
import { compileEventFilter, type Matchable } from "../server/filters/eventFilter.js";

const quick = process.argv.includes("--quick");
const jsonAt = process.argv.indexOf("--json");
const jsonPath = jsonAt > 0 ? (process.argv[jsonAt + 1] as string) : "bench/results/matchFilters-latest.json";
const onlyAt = process.argv.indexOf("--only");
const only = onlyAt > 0 ? (process.argv[onlyAt + 1] as string) : "";
const ROUNDS = quick ? 3 : 9;
const ROUND_MS = quick ? 40 : 120;

function matchable(routingKey: string, kref: string): Matchable {
  const body = kref.slice("kref://".length);
  const q = body.indexOf("?");
  return {
    segments: routingKey.split("."),
    krefSegments: (q < 0 ? body : body.slice(0, q)).split("/"),
    krefQuery: q < 0 ? "" : body.slice(q + 1),
  };
}

interface Case {
  name: string;
  /** One operation; returns something so the work cannot be optimised away. */
  run: (i: number) => unknown;
}

function filterCase(name: string, rk: string, kref: string, events: [string, string][]): Case {
  const f = compileEventFilter(rk, kref, 1 << 16);
  if (typeof f === "string") throw new Error(f);
  const evs = events.map(([r, k]) => matchable(r, k));
  return { name, run: (i) => f.matches(evs[i % evs.length] as Matchable) };
}

const ordinaryEvents: [string, string][] = [
  ["revision.created", "kref://film/shots/sh010.model?r=3"],
  ["revision.tagged", "kref://film/shots/seq1/sh020.rig?r=1"],
  ["item.model.created", "kref://film/chars/hero.model"],
  ["revision.created", "kref://film/chars/hero.rig?r=7&a=main"],
];

// Issue #12's filter and kref, then shapes that need the automaton (a second "**") and keep many
// pattern positions, or many distinct globs, alive at once.
const attackPattern = `kref://**/${"*a*/".repeat(250)}b0`;
const attackKref = `kref://${"a/".repeat(500)}c.d`;
const attackTwice = `kref://**/${"*a*/".repeat(249)}**/b0`;
const manyGlobs = ["*a*", "*b*", "*c*", "a*", "*c", "*ab*", "*bc*", "a*c", "*a*c*", "ab*", "*bc", "a*b*", "*b*c", "*abc*", "a*bc"];
const distinctGlobs = `kref://**/${Array.from({ length: 150 }, (_, i) => manyGlobs[i % manyGlobs.length]).join("/")}/**/zz`;
const distinctKref = `kref://${Array.from({ length: 254 }, () => "abc").join("/")}`;
const literalRun = `kref://**/${"a/".repeat(250)}**/b`;
const rkAttack = `#.${Array.from({ length: 120 }, () => "a").join(".")}.#.b`;
const rkKey = `${Array.from({ length: 126 }, () => "a").join(".")}.c`;

const asciiKref = "kref://film/shots/sh010.model?r=3&a=main";
const asciiBytes = Buffer.from(asciiKref);
const unicodeKref = "kref://영화/샷/sh010.model?r=3&a=main";
const unicodeBytes = Buffer.from(unicodeKref);
const longAscii = `kref://film/${"s".repeat(900)}/x.model?r=12`;
const longAsciiBytes = Buffer.from(longAscii);

const cases: Case[] = [
  filterCase("kref film/**", "", "kref://film/**", ordinaryEvents),
  filterCase("kref film/**/*.model", "", "kref://film/**/*.model", ordinaryEvents),
  filterCase("kref */shots/sh01*", "", "kref://*/shots/sh01*", ordinaryEvents),
  filterCase("kref film/chars/hero.rig?r=*&a=*", "", "kref://film/chars/hero.rig?r=*&a=*", ordinaryEvents),
  filterCase("kref film/*/*0*0*", "", "kref://film/*/*0*0*", ordinaryEvents),
  filterCase("rk revision.*", "revision.*", "", ordinaryEvents),
  filterCase("rk #.created", "#.created", "", ordinaryEvents),
  filterCase("rk item.#,revision.tagged", "item.#,revision.tagged", "", ordinaryEvents),
  filterCase("rk revision.* + kref film/**/*.model", "revision.*", "kref://film/**/*.model", ordinaryEvents),
  filterCase("hostile: issue #12 (**/ + *a*/ x250 + b0)", "", attackPattern, [["a", attackKref]]),
  filterCase("hostile: issue #12 with a second **", "", attackTwice, [["a", attackKref]]),
  filterCase("hostile: 150 globs, 15 distinct, all alive", "", distinctGlobs, [["a", distinctKref]]),
  filterCase("hostile: **/ + a/ x250 + **/b", "", literalRun, [["a", attackKref]]),
  filterCase("hostile: rk #.a x120.#.b", rkAttack, "", [[rkKey, "kref://p"]]),
  { name: "isValidKrefBytes ascii (41 B)", run: () => isValidKrefBytes(asciiBytes, 1024) },
  { name: "isValidKrefBytes ascii (930 B)", run: () => isValidKrefBytes(longAsciiBytes, 1024) },
  { name: "isValidKrefBytes unicode (Korean)", run: () => isValidKrefBytes(unicodeBytes, 1024) },
  { name: "isValidKref string ascii (41 ch)", run: () => isValidKref(asciiKref, 1024) },
  { name: "isValidKref string unicode (Korean)", run: () => isValidKref(unicodeKref, 1024) },
];

let sink = 0;

/** Nanoseconds per operation of one round: as many operations as fit in ROUND_MS. */
function round(c: Case): number {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ROUND_MS) {
    for (let i = 0; i < 64; i++) if (c.run(n + i)) sink++;
    n += 64;
    now = performance.now();
  }
  return ((now - start) * 1e6) / n;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const rows: { case: string; nsPerOp: number; min: number; max: number; result: unknown }[] = [];
for (const c of cases.filter((x) => x.name.includes(only))) {
  round(c); // warm-up (JIT)
  const times = Array.from({ length: ROUNDS }, () => round(c));
  rows.push({ case: c.name, nsPerOp: median(times), min: Math.min(...times), max: Math.max(...times), result: c.run(0) });
}

const fmt = (ns: number) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(1)} ns`);
const width = Math.max(...rows.map((r) => r.case.length));
console.log(`${"case".padEnd(width)}  ${"median".padStart(10)}  ${"min".padStart(10)}  ${"max".padStart(10)}  result`);
for (const r of rows) {
  console.log(
    `${r.case.padEnd(width)}  ${fmt(r.nsPerOp).padStart(10)}  ${fmt(r.min).padStart(10)}  ${fmt(r.max).padStart(10)}  ${String(r.result)}`,
  );
}
writeFileSync(jsonPath, `${JSON.stringify({ node: process.version, rounds: ROUNDS, roundMs: ROUND_MS, rows }, null, 2)}\n`);
console.log(`\nwrote ${jsonPath} (${sink} matches)`);
