// Kumiho's kref grammar, as Streamgate accepts it (README "Validation"):
//   kref://<project>                                      a project
//   kref://<project>/<space>[/<sub>...]                   a space (nested spaces too)
//   kref://<project>[/<space>...]/<name>.<kind>           an item (the last segment has a dot)
//   ...<name>.<kind>?r=<revision>[&a=<artifact>]           a revision, an artifact: items only
// Project and space krefs are valid because Kumiho's own project.* and space.* events carry them, and
// Kumiho's validate_kref accepts them. Segments are [A-Za-z0-9_][A-Za-z0-9_.-]* with no ".."; no control
// characters. (Kumiho's SDK also allows Unicode letters in segments; the kref filters here are ASCII, so
// krefs are too.)

export const KREF_SCHEME = "kref://";
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const ARTIFACT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const REVISION = /^[1-9][0-9]{0,9}$/;

/** A kref split into its parts. */
export interface KrefParts {
  uri: string;
  /** "project/space/name.kind" (no scheme, no query). */
  path: string;
  /** "r=3&a=main", or "" when there is none. */
  query: string;
  project: string;
  /** The space path below the project ("shots/seq1"); "" for a project kref or an item directly in the project. */
  space: string;
  /** Item name and kind ("" for project and space krefs): the last segment split at its last dot. */
  name: string;
  kind: string;
  /** From "?r=", else 0. */
  revision: number;
  /** From "&a=", else "". */
  artifact: string;
}

// Character classes of the grammar, by char code.
const isWord = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95; // [A-Za-z0-9_]
const DOT = 46;
const DASH = 45;

const SCHEME_BYTES = Buffer.from(KREF_SCHEME);
const SLASH = 47;
const QUESTION = 63;
const AMPERSAND = 38;
const EQUALS = 61;

/**
 * Scans a name in b[from, n) up to the first byte that cannot be in one; returns where it stopped
 * and its last dot, or -1 when it does not start with a name or has "..".
 */
function scanName(b: Uint8Array, from: number, n: number, out: { lastDot: number }): number {
  if (from >= n || !isWord(b[from] as number)) return -1;
  let lastDot = -1;
  let i = from + 1;
  for (; i < n; i++) {
    const c = b[i] as number;
    if (c === DOT) {
      if (lastDot === i - 1) return -1;
      lastDot = i;
    } else if (c !== DASH && !isWord(c)) break;
  }
  out.lastDot = lastDot;
  return i;
}

const scanned = { lastDot: -1 };

/**
 * Whether the kref in b[0, n) (its bytes, e.g. as read back from Redis, where another producer may
 * have written anything) is valid: one pass, nothing allocated. The grammar's one implementation;
 * {@link isValidKref} runs it on a string's char codes. Exactly the krefs parseKref accepts (tested).
 */
export function isValidKrefBytes(b: Uint8Array, maxLength: number, n: number = b.length): boolean {
  if (n <= SCHEME_BYTES.length || n > maxLength) return false;
  for (let i = 0; i < SCHEME_BYTES.length; i++) if (b[i] !== SCHEME_BYTES[i]) return false;
  let i = SCHEME_BYTES.length;
  let segments = 0;
  let lastStart = i;
  for (;;) {
    lastStart = i;
    i = scanName(b, i, n, scanned);
    if (i < 0) return false;
    segments++;
    if (i === n) return true;
    if (b[i] === SLASH) i++;
    else if (b[i] === QUESTION) break;
    else return false;
  }
  // A revision belongs to an item: at least two segments, the last one <name>.<kind>.
  const lastDot = scanned.lastDot;
  if (segments < 2 || lastDot <= lastStart || lastDot >= i - 1) return false;
  // Bounds checked, since b may be a scratch array holding older bytes past n.
  if (i + 3 > n || b[i + 1] !== 114 || b[i + 2] !== EQUALS) return false; // "r="
  i += 3;
  const digits = i;
  while (i < n && (b[i] as number) >= 48 && (b[i] as number) <= 57) i++;
  if (i === digits || i - digits > 10 || b[digits] === 48) return false;
  if (i === n) return true;
  if (i + 3 > n || b[i] !== AMPERSAND || b[i + 1] !== 97 || b[i + 2] !== EQUALS) return false; // "&a="
  return scanName(b, i + 3, n, scanned) === n;
}

let chars = new Uint8Array(256);

/**
 * Whether `uri` is a valid kref, without allocating: the publish path checks every event's kref,
 * and {@link parseKref}'s split-and-match reading cost more than the rest of validation together.
 * The grammar is ASCII, so the char codes are copied into a scratch array for isValidKrefBytes.
 */
export function isValidKref(uri: string, maxLength: number): boolean {
  const n = uri.length;
  if (n === 0 || n > maxLength) return false;
  if (chars.length < n) chars = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = uri.charCodeAt(i);
    if (c > 127) return false;
    chars[i] = c;
  }
  return isValidKrefBytes(chars, maxLength, n);
}

/** Returns the parts of a valid kref, or a sentence saying what is wrong with it. */
export function parseKref(uri: string, maxLength: number): KrefParts | string {
  if (uri.length === 0) return "kref is required";
  if (uri.length > maxLength) return `kref is ${uri.length} characters; the limit is ${maxLength}`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(uri)) return "kref must not contain control characters";
  if (!uri.startsWith(KREF_SCHEME)) return `kref must start with "${KREF_SCHEME}", got "${uri}"`;
  const rest = uri.slice(KREF_SCHEME.length);
  const q = rest.indexOf("?");
  const path = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? "" : rest.slice(q + 1);
  const segments = path.split("/");
  for (const seg of segments) {
    if (seg === "") return `kref "${uri}" has an empty path segment`;
    if (seg === "." || seg === ".." || seg.includes("..")) return `kref "${uri}" must not contain ".."`;
    if (!SEGMENT.test(seg)) return `kref "${uri}": path segment "${seg}" may only use letters, digits, "_", "-" and "."`;
  }
  // The last segment after the project names an item when it is <name>.<kind> (both non-empty).
  const last = segments[segments.length - 1] as string;
  const dot = segments.length >= 2 ? last.lastIndexOf(".") : -1;
  const isItem = dot > 0 && dot < last.length - 1;
  let revision = 0;
  let artifact = "";
  if (q >= 0) {
    const m = /^r=([^&]*)(?:&a=(.*))?$/.exec(query);
    if (!m) return `kref "${uri}": the query part must be "?r=<revision>" optionally followed by "&a=<artifact>"`;
    if (!isItem) {
      return `kref "${uri}": a revision ("?r=") belongs to an item, so the path must end in <name>.<kind>, e.g. "kref://film/shots/sh010.model?r=3"`;
    }
    if (!REVISION.test(m[1] as string)) return `kref "${uri}": revision must be a positive integer`;
    revision = Number(m[1]);
    if (m[2] !== undefined) {
      if (!ARTIFACT.test(m[2]) || m[2].includes("..")) return `kref "${uri}": artifact name "${m[2]}" is not valid`;
      artifact = m[2];
    }
  }
  return {
    uri,
    path,
    query,
    project: segments[0] as string,
    space: segments.slice(1, isItem ? -1 : undefined).join("/"),
    name: isItem ? last.slice(0, dot) : "",
    kind: isItem ? last.slice(dot + 1) : "",
    revision,
    artifact,
  };
}
