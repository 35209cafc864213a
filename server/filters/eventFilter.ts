import { compileKrefFilter, matchAllKrefs } from "./krefFilter.js";
import { compileRoutingKeyFilter, matchAllKeys, routingKeyLiteralPrefix } from "./routingKeyFilter.js";

/** What a filter needs of an event; prepared once per event. */
export interface Matchable {
  /** The routing key split on ".". */
  segments: readonly string[];
  /** The kref's path (no scheme, no query) split on "/". */
  krefSegments: readonly string[];
  /** The kref's query ("r=3&a=main"), or "". */
  krefQuery: string;
}

/**
 * Where the fan-out's index files a filter: under the literal segments its kref
 * pattern (or else its routing-key pattern) starts with, so that an event is
 * only matched against filters that share its leading segments.
 */
export interface FilterIndexKey {
  by: "kref" | "routingKey";
  prefix: readonly string[];
}

/** A subscription's filters, compiled once. */
export interface EventFilter {
  /** Identical filters share one key, so they are matched once per event. */
  key: string;
  matchesAll: boolean;
  routingKeyFilter: string;
  krefFilter: string;
  /** Undefined for filters without a literal prefix: those are tried on every event. */
  index: FilterIndexKey | undefined;
  matches(ev: Matchable): boolean;
}

/** Compiles the request's filters, or returns a message for INVALID_ARGUMENT. */
export function compileEventFilter(routingKeyFilter: string, krefFilter: string, maxLength: number): EventFilter | string {
  const rk = compileRoutingKeyFilter(routingKeyFilter, maxLength);
  if (typeof rk === "string") return rk;
  const kref = compileKrefFilter(krefFilter, maxLength);
  if (typeof kref === "string") return kref;
  const rkText = routingKeyFilter.trim();
  const krefText = krefFilter.trim();
  const allKeys = rk === matchAllKeys;
  const allKrefs = kref.matches === matchAllKrefs;
  const matchesAll = allKeys && allKrefs;
  const krefMatches = kref.matches;
  const rkPrefix = allKeys ? null : routingKeyLiteralPrefix(rkText);
  const index: FilterIndexKey | undefined =
    !allKrefs && kref.literalPrefix.length > 0
      ? { by: "kref", prefix: kref.literalPrefix }
      : rkPrefix && rkPrefix.length > 0
        ? { by: "routingKey", prefix: rkPrefix }
        : undefined;
  return {
    key: matchesAll ? "" : `${allKeys ? "" : rkText}\u0000${allKrefs ? "" : krefText}`,
    matchesAll,
    routingKeyFilter: rkText,
    krefFilter: krefText,
    index: matchesAll ? undefined : index,
    matches: matchesAll
      ? () => true
      : allKrefs
        ? (ev) => rk(ev.segments)
        : allKeys
          ? (ev) => krefMatches(ev.krefSegments, ev.krefQuery)
          : (ev) => rk(ev.segments) && krefMatches(ev.krefSegments, ev.krefQuery),
  };
}
