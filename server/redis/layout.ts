// The Redis layout, in one place. Every key of a tenant sits under
// `<prefix>:{<tenant>}:` so that all of them hash to one Redis Cluster slot.
//
// <prefix>:{<tenant>}:events   the tenant's event stream
// <prefix>:{<tenant>}:epoch    string: the stream's epoch, part of every cursor (cursors/epoch.ts)
// <prefix>:{<tenant>}:trimmed  highest stream ID removed by retention trimming
// <prefix>:{<tenant>}:streams  sorted set of open-stream leases (member "<replica>:<n>", score = expiry ms)
// <prefix>:{<tenant>}:dedup    string "<start ms>:<a|b>": when the current duplicate-window bucket began, and which it is
// <prefix>:{<tenant>}:dedup:a  hash idempotency key -> stream ID, one of two buckets that take turns
// <prefix>:{<tenant>}:dedup:b  (scripts/appendEvents.lua): a key is remembered for at least the window
//
// Admin data (API keys, tenant registry) sits under `<prefix>:{@admin}:`: one
// slot, and "@" can never be part of a tenant id, so no tenant shares it.
// Keys are looked up by the SHA-256 of the token, so they are not per tenant.
//
// <prefix>:{@admin}:keys        hash  key id -> JSON {id, tenant, name, createdAt, hash}
// <prefix>:{@admin}:key-hashes  hash  hex SHA-256 of the token -> key id
// <prefix>:{@admin}:tenants     hash  tenant id -> tier name (the tenant registry the retention sweep walks)
// <prefix>:{@admin}:sweep-lock  string  held by the replica running the current retention sweep
// <prefix>:{@admin}:auth-changes  pub/sub channel: JSON {type:"revoke",keyId} | {type:"tier",tenant}
//
// Stream entry fields (other producers may XADD these directly):
//   routing_key  required  e.g. "revision.created"
//   kref         required  e.g. "kref://film/shots/sh010.model?r=3"
//   author       optional
//   username     optional
//   details      optional  JSON object of string -> string
// The event's cursor is the entry ID; its timestamp is the ID's millisecond part.

import { isTenantId } from "../tenancy/tenantId.js";

export const Field = {
  routingKey: "routing_key",
  kref: "kref",
  author: "author",
  username: "username",
  details: "details",
} as const;

export interface TenantKeys {
  events: string;
  epoch: string;
  trimmed: string;
  streams: string;
  dedup: string;
  dedupA: string;
  dedupB: string;
}

/**
 * Keys of one tenant. Throws on an invalid tenant id (tenancy/tenantId.ts):
 * authentication validates ids first, this is the last line of defence
 * against a crafted id escaping its hash tag.
 */
export function tenantKeys(prefix: string, tenant: string): TenantKeys {
  if (!isTenantId(tenant)) throw new Error(`invalid tenant id ${JSON.stringify(tenant.slice(0, 80))}`);
  const base = `${prefix}:{${tenant}}`;
  return {
    events: `${base}:events`,
    epoch: `${base}:epoch`,
    trimmed: `${base}:trimmed`,
    streams: `${base}:streams`,
    dedup: `${base}:dedup`,
    dedupA: `${base}:dedup:a`,
    dedupB: `${base}:dedup:b`,
  };
}

/**
 * The keys of a stream's incarnation, in the order the scripts that may create the stream take
 * them first (scripts/lib/incarnation.lua): events, epoch, trim marker, duplicate-window state and buckets.
 */
export function incarnationKeys(keys: TenantKeys): [string, string, string, string, string, string] {
  return [keys.events, keys.epoch, keys.trimmed, keys.dedup, keys.dedupA, keys.dedupB];
}

export interface AdminKeys {
  keys: string;
  keyHashes: string;
  tenants: string;
  sweepLock: string;
  /** A pub/sub channel, not a key. */
  authChanges: string;
}

export function adminKeys(prefix: string): AdminKeys {
  const base = `${prefix}:{@admin}`;
  return {
    keys: `${base}:keys`,
    keyHashes: `${base}:key-hashes`,
    tenants: `${base}:tenants`,
    sweepLock: `${base}:sweep-lock`,
    authChanges: `${base}:auth-changes`,
  };
}

// Consumer groups (one Redis consumer group per tenant and group name, on the events stream):
// <prefix>:{<tenant>}:groups              set of the tenant's group names
// <prefix>:{<tenant>}:group:<name>        hash: routing_key_filter, kref_filter, max_deliveries, ack_timeout_ms, created_at
// <prefix>:{<tenant>}:group:<name>:retry  stream of dead letters replayed into the group (same Redis group name)
// <prefix>:{<tenant>}:group:<name>:dlq    dead-letter stream: original_msg_id, original_stream, original_group,
//                                         reason, error, failed_at, delivery_count, then the event's own fields
// <prefix>:{<tenant>}:group:<name>:errors hash: pending entry ID -> last error text from a nack
/** A group's keys, and its tenant's (the events stream the group reads, its epoch, ...). */
export interface GroupKeys extends TenantKeys {
  groups: string;
  settings: string;
  retry: string;
  dlq: string;
  errors: string;
}

export function groupKeys(prefix: string, tenant: string, group: string): GroupKeys {
  const g = `${prefix}:{${tenant}}:group:${group}`;
  return {
    ...tenantKeys(prefix, tenant),
    groups: `${prefix}:{${tenant}}:groups`,
    settings: g,
    retry: `${g}:retry`,
    dlq: `${g}:dlq`,
    errors: `${g}:errors`,
  };
}

/** Field a replayed dead letter carries in the retry stream: the event's original ID. */
export const REPLAYED_FROM = "replayed_from";
