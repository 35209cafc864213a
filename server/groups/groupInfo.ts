import { status } from "@grpc/grpc-js";
import type { Redis } from "ioredis";
import { StreamgateError } from "../errors.js";
import { type GroupKeys, groupKeys } from "../redis/layout.js";

/** What describeGroup reports about a group. */
export interface GroupInfo {
  group: string;
  routingKeyFilter: string;
  krefFilter: string;
  maxDeliveries: number;
  ackTimeoutMs: number;
  members: { name: string; pending: number; idleMs: number }[];
  pending: number;
  /** Entries not yet read by the group; -1 when Redis cannot tell (after deletions). */
  lag: number;
  deadLetters: number;
}

function pairs(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}

/**
 * The settings hash of a group of the caller's tenant; NOT_FOUND when there is
 * none (also when another tenant has a group of that name: `keys` are the caller's).
 */
export async function requireGroup(redis: Redis, keys: GroupKeys, group: string): Promise<Record<string, string>> {
  const settings = await redis.hgetall(keys.settings);
  if (settings.routing_key_filter === undefined) throw new StreamgateError(status.NOT_FOUND, `no consumer group named "${group}"`);
  return settings;
}

/** Members, pending, lag and dead letters of one group (NOT_FOUND when it does not exist). */
export async function describeGroup(redis: Redis, keys: GroupKeys, group: string): Promise<GroupInfo> {
  const settings = await requireGroup(redis, keys, group);
  const [groups, consumers, retryConsumers, dlqLen, retryGroups] = (await redis
    .multi()
    .xinfo("GROUPS", keys.events)
    .xinfo("CONSUMERS", keys.events, group)
    .xinfo("CONSUMERS", keys.retry, group)
    .xlen(keys.dlq)
    .xinfo("GROUPS", keys.retry)
    .exec()) as [Error | null, unknown][];
  const mine = ((groups?.[1] as unknown[][]) ?? []).map(pairs).find((g) => g.name === group) ?? {};
  const retryMine = ((retryGroups?.[1] as unknown[][]) ?? []).map(pairs).find((g) => g.name === group) ?? {};
  const members = new Map<string, { name: string; pending: number; idleMs: number }>();
  for (const list of [consumers?.[1], retryConsumers?.[1]]) {
    for (const c of ((list as unknown[][]) ?? []).map(pairs)) {
      const name = String(c.name);
      const m = members.get(name) ?? { name, pending: 0, idleMs: Number(c.idle) };
      m.pending += Number(c.pending);
      m.idleMs = Math.min(m.idleMs, Number(c.idle));
      members.set(name, m);
    }
  }
  const lag = mine.lag === null || mine.lag === undefined ? -1 : Number(mine.lag) + Number(retryMine.lag ?? 0);
  return {
    group,
    routingKeyFilter: settings.routing_key_filter ?? "",
    krefFilter: settings.kref_filter ?? "",
    maxDeliveries: Number(settings.max_deliveries),
    ackTimeoutMs: Number(settings.ack_timeout_ms),
    members: [...members.values()].sort((a, b) => a.name.localeCompare(b.name)),
    pending: Number(mine.pending ?? 0) + Number(retryMine.pending ?? 0),
    lag,
    deadLetters: Number(dlqLen?.[1] ?? 0),
  };
}

/** Every group of a tenant, described, sorted by name. */
export async function listGroups(redis: Redis, prefix: string, tenant: string): Promise<GroupInfo[]> {
  const names = (await redis.smembers(groupKeys(prefix, tenant, "_").groups)).sort();
  return Promise.all(names.map((g) => describeGroup(redis, groupKeys(prefix, tenant, g), g)));
}
