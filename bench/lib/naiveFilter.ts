// The filter a hand-rolled reference applies per subscriber: a regular
// expression for "revision.*"-style routing globs and picomatch over the kref
// path. Used by the bare grpc-js server and by raw ioredis clients (client-side
// filtering), never by Streamgate.
import picomatch from "picomatch";

export type NaiveMatcher = (routingKey: string, kref: string) => boolean;

export function naiveFilter(routingKeyFilter: string, krefFilter: string): NaiveMatcher {
  const rk = routingKeyFilter ? new RegExp(`^${routingKeyFilter.replace(/\./g, "\\.").replace(/\*/g, "[^.]+")}$`) : null;
  const path = krefFilter ? picomatch(krefFilter.replace(/^kref:\/\//, ""), { dot: true }) : null;
  return (routingKey, kref) => {
    if (rk && !rk.test(routingKey)) return false;
    if (!path) return true;
    const body = kref.slice("kref://".length);
    const q = body.indexOf("?");
    return path(q < 0 ? body : body.slice(0, q));
  };
}
