import { status } from "@grpc/grpc-js";
import { newEpoch } from "../cursors/epoch.js";
import { StreamgateError } from "../errors.js";
import type { SgRedis } from "../redis/commands.js";
import type { GroupKeys } from "../redis/layout.js";
import { idBefore } from "../redis/streamIds.js";

/** A group's settings, fixed when it is created. */
export interface GroupSettings {
  routingKeyFilter: string;
  krefFilter: string;
  maxDeliveries: number;
  ackTimeoutMs: number;
}

/** Where a new group starts reading: "$" (latest), "0" (beginning) or just before a timestamp. */
export function groupStartId(
  start: { kind: "live" } | { kind: "beginning" } | { kind: "from"; id: string } | { kind: "after"; id: string },
): string {
  if (start.kind === "beginning") return "0";
  if (start.kind === "after") return start.id;
  if (start.kind === "from") return idBefore(start.id);
  return "$";
}

/**
 * Creates the group or joins the existing one. A member whose filters differ
 * from the group's gets FAILED_PRECONDITION: a group's filters are fixed.
 */
export async function joinGroup(
  redis: SgRedis,
  keys: GroupKeys,
  group: string,
  wanted: GroupSettings,
  startId: string,
): Promise<{ created: boolean; settings: GroupSettings }> {
  const [created, rk, kref, maxDeliveries, ackTimeoutMs] = await redis.sgGroupJoin(
    keys.events,
    keys.retry,
    keys.settings,
    keys.groups,
    keys.epoch,
    keys.trimmed,
    keys.dedup,
    keys.dedupA,
    keys.dedupB,
    group,
    wanted.routingKeyFilter,
    wanted.krefFilter,
    startId,
    wanted.maxDeliveries,
    wanted.ackTimeoutMs,
    new Date().toISOString(),
    newEpoch(),
  );
  const settings = { routingKeyFilter: rk, krefFilter: kref, maxDeliveries: Number(maxDeliveries), ackTimeoutMs: Number(ackTimeoutMs) };
  if (!created && (rk !== wanted.routingKeyFilter || kref !== wanted.krefFilter)) {
    throw new StreamgateError(
      status.FAILED_PRECONDITION,
      `group "${group}" was created with routing_key_filter "${rk}" and kref_filter "${kref}"; ` +
        `members must join with the same filters (got "${wanted.routingKeyFilter}" and "${wanted.krefFilter}")`,
    );
  }
  return { created: created === 1, settings };
}
