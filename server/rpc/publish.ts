import { type ServerUnaryCall, type sendUnaryData, status } from "@grpc/grpc-js";
import type { PublishBatchRequest__Output } from "../../client-sdk/src/generated/streamgate/v1/PublishBatchRequest.js";
import type { PublishBatchResponse } from "../../client-sdk/src/generated/streamgate/v1/PublishBatchResponse.js";
import type { PublishRequest__Output } from "../../client-sdk/src/generated/streamgate/v1/PublishRequest.js";
import type { PublishResponse } from "../../client-sdk/src/generated/streamgate/v1/PublishResponse.js";
import { StreamgateError } from "../errors.js";
import { toStreamFields } from "../events/storedEvent.js";
import { type NewEvent, validateEvent } from "../events/validateEvent.js";
import { countPublished } from "../observability/counters.js";
import { tenantKeys } from "../redis/layout.js";
import { idMillis } from "../redis/streamIds.js";
import type { RpcContext } from "./context.js";
import { toServiceError } from "./toServiceError.js";

function toNewEvent(req: PublishRequest__Output): NewEvent {
  return {
    routingKey: req.routingKey,
    kref: req.kref?.uri ?? "",
    author: req.author,
    username: req.username,
    details: req.details ?? {},
  };
}

function checked(ctx: RpcContext, req: PublishRequest__Output, where = ""): NewEvent {
  const ev = toNewEvent(req);
  const problem = validateEvent(ev, ctx.config);
  if (problem) throw new StreamgateError(status.INVALID_ARGUMENT, `${where}${problem}`);
  return ev;
}

function unary<Req, Res>(ctx: RpcContext, run: (call: ServerUnaryCall<Req, Res>) => Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    run(call).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toServiceError(err, ctx.log)),
    );
  };
}

export function publishHandler(ctx: RpcContext) {
  return unary<PublishRequest__Output, PublishResponse>(ctx, async (call) => {
    const caller = ctx.resolveCaller(call.metadata);
    const ev = checked(ctx, call.request);
    const keys = tenantKeys(ctx.config.keyPrefix, caller.tenantId);
    const id = (await ctx.redis.xadd(keys.events, "*", ...toStreamFields(ev))) as string;
    countPublished(caller.tenantId, 1);
    return { cursor: id, timestamp: new Date(idMillis(id)).toISOString() };
  });
}

/** All events or none: validated together, then appended in one MULTI/EXEC. */
export function publishBatchHandler(ctx: RpcContext) {
  return unary<PublishBatchRequest__Output, PublishBatchResponse>(ctx, async (call) => {
    const caller = ctx.resolveCaller(call.metadata);
    const reqs = call.request.events ?? [];
    if (reqs.length === 0) throw new StreamgateError(status.INVALID_ARGUMENT, "events is empty");
    if (reqs.length > ctx.config.maxBatchEvents) {
      throw new StreamgateError(status.INVALID_ARGUMENT, `batch has ${reqs.length} events; the limit is ${ctx.config.maxBatchEvents}`);
    }
    const events = reqs.map((r, i) => checked(ctx, r, `events[${i}]: `));
    const keys = tenantKeys(ctx.config.keyPrefix, caller.tenantId);
    const multi = ctx.redis.multi();
    for (const ev of events) multi.xadd(keys.events, "*", ...toStreamFields(ev));
    const results = await multi.exec();
    if (!results) throw new StreamgateError(status.UNAVAILABLE, "batch was aborted by Redis; nothing was published");
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0];
    countPublished(caller.tenantId, events.length);
    return { cursors: results.map(([, id]) => id as string) };
  });
}
