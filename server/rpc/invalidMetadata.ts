// grpc-js drops a metadata entry whose value it cannot represent (a non-ASCII
// character in a text header) and carries on: a call with `x-tenant-id: ümlaut`
// then ran as if it had named no tenant, and a mangled `authorization` as if it
// had sent none. Such a call is refused, naming the entry, instead. grpc-js says
// nothing to the server about what it dropped, so its header parser is wrapped
// (grpcJsHooks.ts) to mark the metadata with the keys of the entries it refused.
import { type Metadata, status } from "@grpc/grpc-js";
import { StreamgateError } from "../errors.js";
import type { ResolveCaller } from "../tenancy/caller.js";

/** The marker entry; a client sending it itself only gets its own call refused. */
const MARKER = "streamgate-invalid-metadata";

export type Headers = Record<string, string | string[] | undefined>;

// What grpc-js accepts in a text (non "-bin") value: printable ASCII.
const LEGAL = /^[\x20-\x7e]*$/;

/** Marks `parsed` (grpc-js's metadata of `headers`) with the keys of text entries grpc-js dropped. */
export function markDroppedEntries(headers: Headers, parsed: Metadata): void {
  const dropped: string[] = [];
  for (const [key, values] of Object.entries(headers)) {
    if (key.startsWith(":") || key.endsWith("-bin") || values === undefined) continue;
    if ((Array.isArray(values) ? values : [values]).some((v) => !LEGAL.test(v))) dropped.push(key);
  }
  if (dropped.length > 0) parsed.set(MARKER, dropped.join(","));
}

/**
 * Wraps a caller resolver so that a call whose metadata had an entry grpc-js could not represent
 * is refused: UNAUTHENTICATED for `authorization`, INVALID_ARGUMENT naming the entry otherwise.
 */
export function refusingInvalidMetadata(resolve: ResolveCaller): ResolveCaller {
  return (metadata) => {
    const dropped = metadata.get(MARKER)[0];
    if (typeof dropped === "string" && dropped !== "") {
      const keys = dropped.split(",");
      const what = `metadata ${keys.map((k) => JSON.stringify(k.slice(0, 64))).join(", ")} had characters outside printable ASCII`;
      if (keys.includes("authorization")) {
        throw new StreamgateError(status.UNAUTHENTICATED, `${what}: send the token exactly as it was issued`);
      }
      throw new StreamgateError(status.INVALID_ARGUMENT, `${what}: text metadata must be printable ASCII (use a "-bin" key for binary)`);
    }
    return resolve(metadata);
  };
}
