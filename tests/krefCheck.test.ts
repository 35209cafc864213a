import { describe, expect, it } from "vitest";
import { isValidKref, isValidKrefBytes, parseKref } from "../server/events/kref.js";

// A small deterministic PRNG, so a failure names a reproducible input.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const pieces = [
  "a",
  "Zz",
  "09",
  "_",
  "-",
  ".",
  "..",
  "/",
  "//",
  "?",
  "?r=",
  "r=",
  "&a=",
  "&",
  "=",
  "1",
  "0",
  "12345678901",
  "x.y",
  "é",
  " ",
  "\u0001",
  "kref://",
  "kref:///",
  "film",
  "sh010.model",
  "영화",
  "e\u0301",
  "٣",
  "𝟘",
  "😀",
  "\u00a0",
  "ー",
];

describe("the one-pass kref checks (string, and bytes as read from Redis)", () => {
  it("accepts exactly the krefs parseKref accepts (20,000 generated krefs and near-krefs, Unicode included)", () => {
    const next = rng(42);
    let valid = 0;
    for (let n = 0; n < 20_000; n++) {
      let s = next() < 0.9 ? (next() < 0.9 ? "kref://" : "kref:///") : "";
      const len = 1 + Math.floor(next() * 8);
      for (let i = 0; i < len; i++) s += pieces[Math.floor(next() * pieces.length)];
      const reference = typeof parseKref(s, 1024) !== "string";
      if (reference) valid++;
      expect([s, isValidKref(s, 1024)]).toEqual([s, reference]);
      expect([s, isValidKrefBytes(Buffer.from(s), 1024)]).toEqual([s, reference]);
    }
    expect(valid).toBeGreaterThan(500); // the generator reaches valid krefs too, not only refusals
  });

  it("is not fooled by a longer kref checked just before (the string check reuses a scratch array)", () => {
    expect(isValidKref("kref://film/shots/sh010.model?r=3&a=main", 1024)).toBe(true);
    expect(isValidKref("kref://film/shots/sh010.model?", 1024)).toBe(false);
    expect(isValidKref("kref://film/shots/sh010.model?r=3&", 1024)).toBe(false);
    expect(isValidKref("kref://film/shots/sh010.model?r=3&a", 1024)).toBe(false);
  });

  it.each([
    ["kref://film", true],
    ["kref://film/shots/sh010.model?r=3&a=main", true],
    ["kref://film/hero.model?r=1", true],
    // Kumiho's validate_kref puts no shape on what carries a revision, nor bounds it.
    ["kref://film?r=1", true],
    ["kref://film/shots?r=1", true],
    ["kref://film/x.?r=1", true],
    ["kref://film/x.y?r=0", true],
    ["kref://film/x.y?r=12345678901", true],
    ["kref://film/a..b", false],
    ["kref://film//x", false],
    ["kref://film/x.y?r=1&a=..", false],
    [`kref://${"a".repeat(1020)}`, false],
    // The cap counts characters: 1,024 Korean syllables (3,055 bytes) fit, 1,025 do not.
    [`kref://${"가".repeat(1017)}`, true],
    [`kref://${"가".repeat(1018)}`, false],
    ["kref://영화/샷/sh010.model?r=٣", true],
  ])("%s -> %s", (uri, ok) => {
    expect(isValidKref(uri, 1024)).toBe(ok);
    expect(isValidKrefBytes(Buffer.from(uri), 1024)).toBe(ok);
    expect(typeof parseKref(uri, 1024) !== "string").toBe(ok);
  });
});
