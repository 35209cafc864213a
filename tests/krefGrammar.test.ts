// Kumiho's kref grammar, as its own validate_kref accepts it (Python SDK,
// kumiho/kref.py: no "..", no control characters, then
// ^kref://(/\w[\w.-]*(/\w[\w.-]*)*|\w[\w.-]*(/\w[\w.-]*)*)(\?r=\d+(&a=[a-zA-Z0-9._-]+)?)?$
// with Python's Unicode \w and \d). Every verdict in the table below was
// checked against that function under Python 3.11. Each kref goes through
// everything that reads krefs: Publish's validation, the stored-entry checks
// (string and bytes), the SDK's parser and the kref filters.
import { describe, expect, it } from "vitest";
import { parseKref as parseClientKref } from "../client-sdk/src/kref.js";
import { isValidKref, isValidKrefBytes, parseKref } from "../server/events/kref.js";
import { toStreamFields } from "../server/events/storedEvent.js";
import { MAX_KREF, storedKeyProblem, validateEvent } from "../server/events/validateEvent.js";
import { decodeEntries, type RawEntry } from "../server/fanout/decodeEntries.js";
import { StreamOrigin } from "../server/fanout/feedEvent.js";
import { RawEvent } from "../server/fanout/rawEvent.js";
import { compileKrefFilter } from "../server/filters/krefFilter.js";
import { createLogger } from "../server/observability/logger.js";

const limits = { maxDetails: 64, maxDetailBytes: 8192, maxEventBytes: 65536, maxFilterLength: 1024 };

/** [kref, accepted by Kumiho's validate_kref, what it illustrates]. */
const table: [string, boolean, string][] = [
  ["kref://film/shots/sh010.model?r=3&a=main", true, "an artifact of a revision"],
  ["kref://영화/shots/sh010.model", true, "a Korean project"],
  ["kref://영화/샷/장면.모델?r=2", true, "Korean throughout"],
  ["kref://café/scène/plan.model?r=2&a=main", true, "accented Latin, composed (NFC)"],
  ["kref://Ελληνικά/σκηνή.model", true, "Greek"],
  ["kref://映画/ショット/sh010.model", true, "Japanese, with the prolonged sound mark (a modifier letter)"],
  ["kref://film/ß_ǅ", true, "sharp s, a titlecase digraph"],
  ["kref://film/٣٤/x.y", true, "Arabic-Indic digits"],
  ["kref://film/१२३.model", true, "Devanagari digits"],
  ["kref://film/Ⅻ.model", true, "a Roman numeral (a letter number)"],
  ["kref://film/x²/y.z", true, "a superscript digit (another number)"],
  ["kref://film/x.y?r=٣", true, "a revision in Arabic-Indic digits"],
  ["kref://film/x.y?r=𝟘𝟟", true, "a revision in mathematical digits (outside the BMP)"],
  ["kref://film/x.y?r=0", true, "revision 0"],
  ["kref://film/x.y?r=007", true, "leading zeros"],
  ["kref://film/x.y?r=12345678901234567890", true, "any number of digits"],
  ["kref://film?r=1", true, "a revision of a project kref: Kumiho does not check the shape"],
  ["kref://film/shots?r=1", true, "a revision of a space kref"],
  ["kref:///space", true, "a root-level space"],
  ["kref:///space/sub", true, "a nested root-level space"],
  ["kref:///space/hero.model?r=1", true, "an item in a root-level space"],
  ["kref://_/x", true, "underscore is a word character"],
  ["kref://film/x-y", true, "a dash inside"],
  ["kref://film/x.", true, "a trailing dot"],
  ["kref://film/x.y?r=1&a=.hidden", true, "an artifact may start with a dot"],
  ["kref://film/x.y?r=1&a=-", true, "an artifact of one dash"],
  ["kref://a", true, "a one-letter project"],
  [`kref://${"가".repeat(MAX_KREF - 7)}`, true, "1,024 characters (3,055 bytes)"],
  ["kref://", false, "no path"],
  ["kref:///", false, "a root-level kref without a space"],
  ["kref:////", false, "empty segments"],
  ["kref:///space/", false, "a trailing slash"],
  ["kref://film//x", false, "an empty segment"],
  ["kref://film/", false, "a trailing slash"],
  ["kref://film/../x", false, "path traversal"],
  ["kref://film/a..b", false, '".." inside a segment'],
  ["kref://film/x.y?r=1&a=..", false, '".." as the artifact'],
  ["kref://film/a\u0001", false, "a control character"],
  ["kref://film/a\u007f", false, "DEL"],
  ["kref://film/a\n", false, "a trailing newline (Python's $ would let it through, the control check does not)"],
  ["kref://film/😀", false, "an emoji is not a word character"],
  ["kref://film/cafe\u0301", false, "a combining mark: Python's re \\w leaves marks out (decomposed café)"],
  ["kref://film/हिन्दी", false, "Devanagari vowel signs and virama are marks too"],
  ["kref://film/a b", false, "a space"],
  ["kref://film/a\u00a0b", false, "a no-break space"],
  ["kref://film/\ud800", false, "a lone surrogate"],
  ["kref://-film", false, "a segment starting with a dash"],
  ["kref://.film", false, "a segment starting with a dot"],
  ["kref://film/.x", false, "a segment starting with a dot"],
  ["kref://film/x.y?r=", false, "no revision digits"],
  ["kref://film/x.y?r=x", false, "a revision that is not a number"],
  ["kref://film/x.y?r=-1", false, "a negative revision"],
  ["kref://film/x.y?r=1.5", false, "a fractional revision"],
  ["kref://film/x.y?r=Ⅻ", false, "a letter number is no decimal digit"],
  ["kref://film/x.y?r=²", false, "a superscript is no decimal digit"],
  ["kref://film/x.y?a=main", false, "an artifact without a revision"],
  ["kref://film/x.y?r=1&a=", false, "an empty artifact"],
  ["kref://film/x.y?r=1&a=ü", false, "artifacts are ASCII"],
  ["kref://film/x.y?r=1&b=2", false, "another parameter"],
  ["kref://film/x.y?r=1&a=x&a=y", false, "two artifacts"],
  ["kref://film/x.y?r=1&a=main/x", false, "a slash in the artifact"],
  ["kref://film/x?r=1?r=2", false, "two queries"],
  ["KREF://film", false, "the scheme is lower case"],
  ["kref:film", false, "no //"],
  ["film/x", false, "no scheme"],
  [`kref://${"가".repeat(MAX_KREF - 6)}`, false, "1,025 characters: over Streamgate's cap (Kumiho has none)"],
  [`kref://${"a".repeat(MAX_KREF - 6)}`, false, "1,025 ASCII characters"],
];

/** The kref's path segments and query, as the fan-out splits them (fanout/feedEvent.ts). */
function split(uri: string): [string[], string] {
  const body = uri.slice("kref://".length);
  const q = body.indexOf("?");
  return [(q < 0 ? body : body.slice(0, q)).split("/"), q < 0 ? "" : body.slice(q + 1)];
}

function matches(filter: string, uri: string): boolean {
  const f = compileKrefFilter(filter, 4096);
  if (typeof f === "string") throw new Error(`${filter}: ${f}`);
  const [segments, query] = split(uri);
  return f.matches(segments, query);
}

describe("Kumiho's kref grammar, table by table", () => {
  it.each(table)("%j -> %s (%s)", (uri, valid) => {
    // Publish.
    const published = validateEvent({ routingKey: "item.created", kref: uri, author: "", username: "", details: {} }, limits);
    if (valid) expect(published).toBeNull();
    else expect(published).toMatch(/kref/);
    // The one-pass checks (Publish's, and stored entries' on strings and on Redis bytes) and the parser agree.
    expect(isValidKref(uri, MAX_KREF)).toBe(valid);
    expect(isValidKrefBytes(Buffer.from(uri), MAX_KREF)).toBe(valid);
    expect(typeof parseKref(uri, MAX_KREF) !== "string").toBe(valid);
    expect(storedKeyProblem("item.created", uri) === null).toBe(valid);
  });

  it.each(table.filter(([, valid]) => valid))("the SDK reads %j as the server does", (uri) => {
    const server = parseKref(uri, MAX_KREF);
    if (typeof server === "string") throw new Error(server);
    const client = parseClientKref(uri);
    expect(client).toEqual({
      uri,
      project: server.project,
      space: server.space,
      name: server.name,
      kind: server.kind,
      revision: server.query ? server.revision : undefined,
      artifact: server.artifact || undefined,
    });
  });

  it.each(table.filter(([, valid]) => valid))("kref filters match %j", (uri) => {
    const [segments] = split(uri);
    // Itself, as a literal pattern.
    expect(matches(uri, uri)).toBe(true);
    // Everything under its project ("kref:///<space>/**" for a root-level kref).
    const project = segments[0] === "" ? `/${segments[1]}` : segments[0];
    expect(matches(`kref://${project}/**`, uri)).toBe(true);
    // Its last segment's first character followed by "*", anywhere.
    const last = segments[segments.length - 1] as string;
    expect(matches(`kref://**/${String.fromCodePoint(last.codePointAt(0) as number)}*`, uri)).toBe(true);
  });

  it("an entry another producer wrote with a Unicode kref is delivered from its Redis bytes, not skipped", () => {
    const fields = toStreamFields({
      routingKey: "item.created",
      kref: "kref://영화/샷/장면.모델?r=٣",
      author: "",
      username: "",
      details: {},
    });
    const entry: RawEntry = [Buffer.from("1-0"), fields.map((f) => Buffer.from(f))];
    const [ev] = decodeEntries([entry], new StreamOrigin("t", "0a1b2c3d"), "s", createLogger("silent"));
    expect(ev?.source).toBeInstanceOf(RawEvent);
    expect(ev?.kref).toBe("kref://영화/샷/장면.모델?r=٣");
    expect(ev?.krefSegments).toEqual(["영화", "샷", "장면.모델"]);
  });

  it("cuts no UTF-8 sequence short: a kref cut inside a character is refused on the byte path", () => {
    const bytes = Buffer.from("kref://film/영화");
    for (let n = bytes.length - 2; n < bytes.length; n++) expect(isValidKrefBytes(bytes, MAX_KREF, n)).toBe(false);
    expect(isValidKrefBytes(Buffer.from([...Buffer.from("kref://film/"), 0xc0, 0x80]), MAX_KREF)).toBe(false); // overlong NUL
    expect(isValidKrefBytes(Buffer.from([...Buffer.from("kref://film/"), 0xed, 0xa0, 0x80]), MAX_KREF)).toBe(false); // a surrogate
  });
});
