import { compileKrefFilter, type KrefMatcher, matchAllKrefs } from "./krefFilter.js";
import { compileRoutingKeyFilter, matchAllKeys, type RoutingKeyMatcher } from "./routingKeyFilter.js";

/** What a filter needs of an event; prepared once per event. */
export interface Matchable {
  segments: readonly string[];
  krefPath: string;
  krefQuery: string;
}

/** A subscription's filters, compiled once. */
export interface EventFilter {
  /** Identical filters share one key, so they are matched once per event. */
  key: string;
  matchesAll: boolean;
  routingKeyFilter: string;
  krefFilter: string;
  matches(ev: Matchable): boolean;
}

/** Compiles the request's filters, or returns a message for INVALID_ARGUMENT. */
export function compileEventFilter(routingKeyFilter: string, krefFilter: string, maxLength: number): EventFilter | string {
  const rk = compileRoutingKeyFilter(routingKeyFilter, maxLength);
  if (typeof rk === "string") return rk;
  const kref = compileKrefFilter(krefFilter, maxLength);
  if (typeof kref === "string") return kref;
  return build(routingKeyFilter.trim(), krefFilter.trim(), rk, kref);
}

function build(rkText: string, krefText: string, rk: RoutingKeyMatcher, kref: KrefMatcher): EventFilter {
  const allKeys = rk === matchAllKeys;
  const allKrefs = kref === matchAllKrefs;
  const matchesAll = allKeys && allKrefs;
  return {
    key: matchesAll ? "" : `${allKeys ? "" : rkText}\u0000${allKrefs ? "" : krefText}`,
    matchesAll,
    routingKeyFilter: rkText,
    krefFilter: krefText,
    matches: matchesAll
      ? () => true
      : allKrefs
        ? (ev) => rk(ev.segments)
        : allKeys
          ? (ev) => kref(ev.krefPath, ev.krefQuery)
          : (ev) => rk(ev.segments) && kref(ev.krefPath, ev.krefQuery),
  };
}
