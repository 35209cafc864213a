/**
 * A kref with its parts. Kumiho's grammar: `kref://project` (a project), `kref://project/space[/sub...]`
 * (a space), `kref://project[/space...]/name.kind` (an item), then optionally `?r=N` (a revision) and
 * `&a=artifact` (an artifact).
 */
export interface Kref {
  /** The full URI, e.g. "kref://film/shots/sh010.model?r=3". */
  uri: string;
  /** The project: the first path segment, e.g. "film". */
  project: string;
  /** Space path below the project, e.g. "shots" or "shots/seq1" ("" for a project kref or an item directly in the project). */
  space: string;
  /** Item name, e.g. "sh010" ("" for project or space krefs). */
  name: string;
  /** Item kind, e.g. "model": what follows the last dot of the item segment ("" for project or space krefs). */
  kind: string;
  /** Revision number, or undefined when the kref has no `?r=`. */
  revision: number | undefined;
  /** Artifact name, or undefined when the kref has no `&a=`. */
  artifact: string | undefined;
}

/**
 * Splits a kref URI into its parts; unknown shapes keep the URI and leave parts empty. The last path
 * segment after the project is an item when it reads `name.kind` (as Kumiho's SDK reads it), so
 * `kref://film/hero.model` is item `hero` of kind `model` directly in project `film`.
 */
export function parseKref(uri: string): Kref {
  const body = uri.startsWith("kref://") ? uri.slice("kref://".length) : uri;
  const q = body.indexOf("?");
  const path = q < 0 ? body : body.slice(0, q);
  const params = new URLSearchParams(q < 0 ? "" : body.slice(q + 1));
  const segments = path.split("/");
  const last = segments[segments.length - 1] ?? "";
  const dot = segments.length >= 2 ? last.lastIndexOf(".") : -1;
  const isItem = dot > 0 && dot < last.length - 1;
  const r = params.get("r");
  return {
    uri,
    project: segments[0] ?? "",
    space: segments.slice(1, isItem ? -1 : undefined).join("/"),
    name: isItem ? last.slice(0, dot) : "",
    kind: isItem ? last.slice(dot + 1) : "",
    revision: r !== null && /^\d+$/.test(r) ? Number(r) : undefined,
    artifact: params.get("a") ?? undefined,
  };
}
