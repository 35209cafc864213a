/** A kref with its parts (Kumiho's `kref://project/space[/sub...]/name.kind?r=N&a=artifact`). */
export interface Kref {
  /** The full URI, e.g. "kref://film/shots/sh010.model?r=3". */
  uri: string;
  project: string;
  /** Space path below the project, e.g. "shots" or "shots/seq1". */
  space: string;
  /** Item name ("" for project or space krefs). */
  name: string;
  /** Item kind ("" for project or space krefs). */
  kind: string;
  /** Revision number, or undefined when the kref has no `?r=`. */
  revision: number | undefined;
  /** Artifact name, or undefined when the kref has no `&a=`. */
  artifact: string | undefined;
}

/** Splits a kref URI into its parts; unknown shapes keep the URI and leave parts empty. */
export function parseKref(uri: string): Kref {
  const body = uri.startsWith("kref://") ? uri.slice("kref://".length) : uri;
  const q = body.indexOf("?");
  const path = q < 0 ? body : body.slice(0, q);
  const params = new URLSearchParams(q < 0 ? "" : body.slice(q + 1));
  const segments = path.split("/");
  const last = segments[segments.length - 1] ?? "";
  const dot = segments.length >= 3 ? last.lastIndexOf(".") : -1;
  const r = params.get("r");
  return {
    uri,
    project: segments[0] ?? "",
    space: segments.slice(1, dot > 0 ? -1 : undefined).join("/"),
    name: dot > 0 ? last.slice(0, dot) : "",
    kind: dot > 0 ? last.slice(dot + 1) : "",
    revision: r !== null && /^\d+$/.test(r) ? Number(r) : undefined,
    artifact: params.get("a") ?? undefined,
  };
}
