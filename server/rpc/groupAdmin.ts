import { type ServerUnaryCall, type sendUnaryData, status } from "@grpc/grpc-js";
import { formatCursor } from "../cursors/cursor.js";
import { StreamgateError } from "../errors.js";
import { type DeadLetter, listDeadLetters, purgeDeadLetters, replayDeadLetters } from "../groups/deadLetters.js";
import { describeGroup, type GroupInfo, listGroups, requireGroup } from "../groups/groupInfo.js";
import { checkName } from "../groups/names.js";
import type { SgRedis } from "../redis/commands.js";
import { groupKeys } from "../redis/layout.js";
import { idMillis, parseId } from "../redis/streamIds.js";
import type { RpcContext } from "./context.js";
import { requireGroups } from "./groupMembership.js";
import { toServiceError } from "./toServiceError.js";

type Unary<Req, Res> = (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void;

/** A group RPC: caller resolved, tier checked, group name validated, errors mapped. */
function groupRpc<Req extends { group?: string }, Res>(
  ctx: RpcContext,
  run: (req: Req, keys: ReturnType<typeof groupKeys>, tenant: string) => Promise<Res>,
  needsGroup = true,
): Unary<Req, Res> {
  return (call, callback) => {
    (async () => {
      const caller = await ctx.resolveCaller(call.metadata);
      requireGroups(caller);
      const group = call.request.group ?? "";
      if (needsGroup) {
        const problem = checkName("group", group);
        if (problem) throw new StreamgateError(status.INVALID_ARGUMENT, problem);
      }
      return run(call.request, groupKeys(ctx.config.keyPrefix, caller.tenantId, group || "_"), caller.tenantId);
    })().then(
      (res) => callback(null, res),
      (err: unknown) => callback(toServiceError(err, ctx.log, call.metadata)),
    );
  };
}

function wireGroup(g: GroupInfo) {
  return {
    ...g,
    members: g.members.map((m) => ({ name: m.name, pending: String(m.pending), idleMs: String(m.idleMs) })),
    pending: String(g.pending),
    lag: String(g.lag),
    deadLetters: String(g.deadLetters),
  };
}

function checkIds(ids: readonly string[]): string[] {
  if (ids.length > 10_000) throw new StreamgateError(status.INVALID_ARGUMENT, `at most 10000 ids per call, got ${ids.length}`);
  for (const id of ids)
    if (!parseId(id)) throw new StreamgateError(status.INVALID_ARGUMENT, `"${id.slice(0, 64)}" is not a dead-letter id`);
  return [...ids];
}

/** A dead letter on the wire; its event's cursor (the original one) in the stream's current `epoch`. */
function wireDeadLetter(d: DeadLetter, tenantId: string, epoch: string | null) {
  const e = d.event;
  const cursor = (id: string) => (epoch && parseId(id) ? formatCursor(id, epoch) : id);
  return {
    id: d.id,
    // The event exactly as subscribers saw it; its cursor is the original one.
    event: e
      ? {
          routingKey: e.routingKey,
          kref: { uri: e.kref },
          timestamp: parseId(e.id) ? new Date(idMillis(e.id)).toISOString() : "",
          author: e.author,
          tenantId,
          details: e.details,
          username: e.username,
          cursor: cursor(e.id),
        }
      : null,
    reason: d.reason,
    error: d.error,
    failedAt: d.failedAt,
    deliveryCount: d.deliveryCount,
    originalCursor: cursor(d.originalCursor),
  };
}

/** streamgate.v1.ConsumerGroups' unary calls: list and describe groups; list, replay and purge dead letters. */
export function groupAdminHandlers(ctx: RpcContext) {
  const redis = ctx.redis as SgRedis;
  return {
    ListGroups: groupRpc(
      ctx,
      async (_req, _keys, tenant) => ({ groups: (await listGroups(redis, ctx.config.keyPrefix, tenant)).map(wireGroup) }),
      false,
    ),
    DescribeGroup: groupRpc<{ group: string }, unknown>(ctx, async (req, keys) => wireGroup(await describeGroup(redis, keys, req.group))),
    // Dead-letter calls on a group the caller's tenant does not have are NOT_FOUND, like DescribeGroup:
    // a mistyped name is not silently "0 replayed", and another tenant's group of that name stays invisible.
    ListDeadLetters: groupRpc<{ group: string; after: string; limit: number }, unknown>(ctx, async (req, keys, tenant) => {
      if (req.after) checkIds([req.after]);
      const limit = Math.min(req.limit || 100, 1000);
      await requireGroup(redis, keys, req.group);
      const [deadLetters, epoch] = await Promise.all([listDeadLetters(redis, keys, req.after, limit), redis.get(keys.epoch)]);
      return { deadLetters: deadLetters.map((d) => wireDeadLetter(d, tenant, epoch)) };
    }),
    ReplayDeadLetters: groupRpc<{ group: string; ids: string[] }, unknown>(ctx, async (req, keys) => {
      const ids = checkIds(req.ids ?? []);
      await requireGroup(redis, keys, req.group);
      return { replayed: await replayDeadLetters(redis, keys, req.group, ids) };
    }),
    PurgeDeadLetters: groupRpc<{ group: string; ids: string[] }, unknown>(ctx, async (req, keys) => {
      const ids = checkIds(req.ids ?? []);
      await requireGroup(redis, keys, req.group);
      return { purged: await purgeDeadLetters(redis, keys, ids) };
    }),
  };
}
