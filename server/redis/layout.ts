// The Redis layout, in one place. Every key of a tenant sits under
// `<prefix>:{<tenant>}:` so that all of them hash to one Redis Cluster slot.
//
// <prefix>:{<tenant>}:events   the tenant's event stream
// <prefix>:{<tenant>}:trimmed  highest stream ID removed by retention trimming
//
// Stream entry fields (other producers may XADD these directly):
//   routing_key  required  e.g. "revision.created"
//   kref         required  e.g. "kref://film/shots/sh010.model?r=3"
//   author       optional
//   username     optional
//   details      optional  JSON object of string -> string
// The event's cursor is the entry ID; its timestamp is the ID's millisecond part.

export const Field = {
  routingKey: "routing_key",
  kref: "kref",
  author: "author",
  username: "username",
  details: "details",
} as const;

export interface TenantKeys {
  events: string;
  trimmed: string;
}

export function tenantKeys(prefix: string, tenant: string): TenantKeys {
  const base = `${prefix}:{${tenant}}`;
  return { events: `${base}:events`, trimmed: `${base}:trimmed` };
}
