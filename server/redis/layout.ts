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

// Consumer groups (one Redis consumer group per tenant and group name, on the events stream):
// <prefix>:{<tenant>}:groups              set of the tenant's group names
// <prefix>:{<tenant>}:group:<name>        hash: routing_key_filter, kref_filter, max_deliveries, ack_timeout_ms, created_at
// <prefix>:{<tenant>}:group:<name>:retry  stream of dead letters replayed into the group (same Redis group name)
// <prefix>:{<tenant>}:group:<name>:dlq    dead-letter stream: original_msg_id, original_stream, original_group,
//                                         reason, error, failed_at, delivery_count, then the event's own fields
// <prefix>:{<tenant>}:group:<name>:errors hash: pending entry ID -> last error text from a nack
export interface GroupKeys {
  events: string;
  groups: string;
  settings: string;
  retry: string;
  dlq: string;
  errors: string;
}

export function groupKeys(prefix: string, tenant: string, group: string): GroupKeys {
  const base = `${prefix}:{${tenant}}`;
  const g = `${base}:group:${group}`;
  return { events: `${base}:events`, groups: `${base}:groups`, settings: g, retry: `${g}:retry`, dlq: `${g}:dlq`, errors: `${g}:errors` };
}

/** Field a replayed dead letter carries in the retry stream: the event's original ID. */
export const REPLAYED_FROM = "replayed_from";
