import type { Metadata, ServiceError } from "@grpc/grpc-js";
import { fromGrpcError } from "./errors.js";
import { type Event, fromWire } from "./event.js";
import type { ConsumerGroupsClient } from "./generated/streamgate/v1/ConsumerGroups.js";
import type { DeadLetter__Output } from "./generated/streamgate/v1/DeadLetter.js";
import type { GroupInfo__Output } from "./generated/streamgate/v1/GroupInfo.js";

/** One member of a consumer group, as {@link GroupAdmin.describe} reports it. */
export interface GroupMemberInfo {
  /** The member's name (the `member` it joined with, or one the server generated). */
  name: string;
  /** Deliveries it holds unacknowledged. */
  pending: number;
  /** Milliseconds since it last read or claimed deliveries (Redis's XINFO CONSUMERS idle time). */
  idleMs: number;
}

/** A consumer group's state. */
export interface GroupInfo {
  /** The group's name. */
  group: string;
  /** The routing-key filter fixed when the group was created ("" = all). */
  routingKeyFilter: string;
  /** The kref filter fixed when the group was created ("" = all). */
  krefFilter: string;
  /** Deliveries of one event before it moves to the dead letters. */
  maxDeliveries: number;
  /** How long a delivery may stay unacknowledged before another member may take it, in ms. */
  ackTimeoutMs: number;
  /** The members Redis knows, with what each holds. */
  members: GroupMemberInfo[];
  /** Delivered, not yet acknowledged. */
  pending: number;
  /** Events the group has not read yet (-1 when Redis cannot tell). */
  lag: number;
  /** Dead letters waiting for replay or purge. */
  deadLetters: number;
}

/** An event that ran out of deliveries. */
export interface DeadLetter {
  /** The dead letter's own id: pass it to `replayDeadLetters`/`purgeDeadLetters`, or as `after` to page. */
  id: string;
  /** The event as subscribers saw it (its cursor is the original one); undefined if it could not be decoded. */
  event: Event | undefined;
  /** Why it was dead-lettered, e.g. "max_deliveries_exceeded". */
  reason: string;
  /** The text of the last nack ("" when it was never nacked, only timed out). */
  error: string;
  /** When it was dead-lettered (ISO-8601 UTC). */
  failedAt: string;
  /** How many times it was delivered. */
  deliveryCount: number;
  /** The event's cursor in the tenant's stream. */
  originalCursor: string;
}

/** Consumer-group introspection and dead-letter management (`client.groups`). */
export interface GroupAdmin {
  /** Every consumer group of the caller's tenant, with its members, pending, lag and dead-letter count. */
  list(): Promise<GroupInfo[]>;
  /** One group's state; rejects with NOT_FOUND when there is no such group. */
  describe(group: string): Promise<GroupInfo>;
  /** Dead letters, oldest first; page with `after` (the last id seen); `limit` defaults to 100 (at most 1000). */
  deadLetters(group: string, options?: { after?: string; limit?: number }): Promise<DeadLetter[]>;
  /** Moves dead letters (all, or `ids`) back into the group; resolves to how many. */
  replayDeadLetters(group: string, ids?: string[]): Promise<number>;
  /** Deletes dead letters (all, or `ids`); resolves to how many. */
  purgeDeadLetters(group: string, ids?: string[]): Promise<number>;
}

function info(g: GroupInfo__Output): GroupInfo {
  return {
    group: g.group,
    routingKeyFilter: g.routingKeyFilter,
    krefFilter: g.krefFilter,
    maxDeliveries: g.maxDeliveries,
    ackTimeoutMs: g.ackTimeoutMs,
    members: g.members.map((m) => ({ name: m.name, pending: Number(m.pending), idleMs: Number(m.idleMs) })),
    pending: Number(g.pending),
    lag: Number(g.lag),
    deadLetters: Number(g.deadLetters),
  };
}

function deadLetter(d: DeadLetter__Output): DeadLetter {
  return {
    id: d.id,
    event: d.event ? fromWire(d.event) : undefined,
    reason: d.reason,
    error: d.error,
    failedAt: d.failedAt,
    deliveryCount: d.deliveryCount,
    originalCursor: d.originalCursor,
  };
}

type Method = (req: unknown, md: Metadata, cb: (err: ServiceError | null, res?: unknown) => void) => unknown;

export function groupAdmin(client: ConsumerGroupsClient, metadata: () => Metadata): GroupAdmin {
  const call = <T>(method: unknown, req: unknown) =>
    new Promise<T>((resolve, reject) =>
      (method as Method).call(client, req, metadata(), (err, res) => (err ? reject(fromGrpcError(err)) : resolve(res as T))),
    );
  return {
    list: async () => (await call<{ groups: GroupInfo__Output[] }>(client.ListGroups, {})).groups.map(info),
    describe: async (group) => info(await call<GroupInfo__Output>(client.DescribeGroup, { group })),
    deadLetters: async (group, o = {}) =>
      (
        await call<{ deadLetters: DeadLetter__Output[] }>(client.ListDeadLetters, { group, after: o.after ?? "", limit: o.limit ?? 0 })
      ).deadLetters.map(deadLetter),
    replayDeadLetters: async (group, ids = []) => (await call<{ replayed: number }>(client.ReplayDeadLetters, { group, ids })).replayed,
    purgeDeadLetters: async (group, ids = []) => (await call<{ purged: number }>(client.PurgeDeadLetters, { group, ids })).purged,
  };
}
