// Kumiho's kref grammar:
//   kref://<project>[/<space>[/<sub>...]][/<name>.<kind>][?r=<revision>[&a=<artifact>]]
// Segments are [A-Za-z0-9_.-]+ with no "." or ".." segment; no control characters.

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
  space: string;
  name: string;
  kind: string;
  revision: number;
  artifact: string;
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
  let revision = 0;
  let artifact = "";
  if (q >= 0) {
    const m = /^r=([^&]*)(?:&a=(.*))?$/.exec(query);
    if (!m) return `kref "${uri}": the query part must be "?r=<revision>" optionally followed by "&a=<artifact>"`;
    if (!REVISION.test(m[1] as string)) return `kref "${uri}": revision must be a positive integer`;
    revision = Number(m[1]);
    if (m[2] !== undefined) {
      if (!ARTIFACT.test(m[2]) || m[2].includes("..")) return `kref "${uri}": artifact name "${m[2]}" is not valid`;
      artifact = m[2];
    }
  }
  const last = segments[segments.length - 1] as string;
  const dot = segments.length >= 3 ? last.lastIndexOf(".") : -1;
  return {
    uri,
    path,
    query,
    project: segments[0] as string,
    space: segments.slice(1, dot > 0 ? -1 : undefined).join("/"),
    name: dot > 0 ? last.slice(0, dot) : "",
    kind: dot > 0 ? last.slice(dot + 1) : "",
    revision,
    artifact,
  };
}
