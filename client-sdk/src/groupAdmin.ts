import type { Metadata, ServiceError } from "@grpc/grpc-js";
import { fromGrpcError } from "./errors.js";
import { type Event, fromWire } from "./event.js";
import type { ConsumerGroupsClient } from "./generated/streamgate/v1/ConsumerGroups.js";
import type { DeadLetter__Output } from "./generated/streamgate/v1/DeadLetter.js";
import type { GroupInfo__Output } from "./generated/streamgate/v1/GroupInfo.js";

/** A consumer group's state. */
export interface GroupInfo {
  group: string;
  routingKeyFilter: string;
  krefFilter: string;
  maxDeliveries: number;
  ackTimeoutMs: number;
  members: { name: string; pending: number; idleMs: number }[];
  /** Delivered, not yet acknowledged. */
  pending: number;
  /** Events the group has not read yet (-1 when Redis cannot tell). */
  lag: number;
  deadLetters: number;
}

/** An event that ran out of deliveries. */
export interface DeadLetter {
  id: string;
  event: Event | undefined;
  reason: string;
  error: string;
  failedAt: string;
  deliveryCount: number;
  originalCursor: string;
}

/** Consumer-group introspection and dead-letter management. */
export interface GroupAdmin {
  list(): Promise<GroupInfo[]>;
  describe(group: string): Promise<GroupInfo>;
  /** Dead letters, oldest first; page with `after` (the last id seen). */
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
