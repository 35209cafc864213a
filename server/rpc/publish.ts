import { type ServerUnaryCall, type sendUnaryData, status } from "@grpc/grpc-js";
import type { PublishBatchRequest__Output } from "../../client-sdk/src/generated/streamgate/v1/PublishBatchRequest.js";
import type { PublishBatchResponse } from "../../client-sdk/src/generated/streamgate/v1/PublishBatchResponse.js";
import type { PublishRequest__Output } from "../../client-sdk/src/generated/streamgate/v1/PublishRequest.js";
import type { PublishResponse } from "../../client-sdk/src/generated/streamgate/v1/PublishResponse.js";
import { StreamgateError } from "../errors.js";
import { appendEvents } from "../events/appendEvents.js";
import { batchBytes } from "../events/batchBytes.js";
import { type NewEvent, validateEvent } from "../events/validateEvent.js";
import { countPublished } from "../observability/counters.js";
import { tenantKeys } from "../redis/layout.js";
import { idMillis } from "../redis/streamIds.js";
import type { Caller } from "../tenancy/caller.js";
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

function check(ctx: RpcContext, ev: NewEvent, where = ""): void {
  const problem = validateEvent(ev, ctx.config);
  if (problem) throw new StreamgateError(status.INVALID_ARGUMENT, `${where}${problem}`);
}

/** Trailers of a batch refused for its size, so that a client (e.g. `streamgate publish`) can split it to fit. */
export const MAX_BATCH_EVENTS_TRAILER = "streamgate-max-batch-events";
export const MAX_BATCH_BYTES_TRAILER = "streamgate-max-batch-bytes";

function unary<Req, Res>(ctx: RpcContext, run: (call: ServerUnaryCall<Req, Res>) => Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    run(call).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toServiceError(err, ctx.log, call.metadata)),
    );
  };
}

export function publishHandler(ctx: RpcContext) {
  return unary<PublishRequest__Output, PublishResponse>(ctx, async (call) => {
    const caller = await ctx.resolveCaller(call.metadata);
    const ev = toNewEvent(call.request);
    check(ctx, ev);
    const [id] = await append(ctx, caller, [ev]);
    return { cursor: id as string, timestamp: new Date(idMillis(id as string)).toISOString() };
  });
}

/**
 * All events or none: validated together, then appended in one MULTI/EXEC. The batch's size is checked
 * first (events, then bytes: gRPC's receive limit sits above STREAMGATE_MAX_BATCH_BYTES so that an
 * oversized batch gets here), then each event; the first invalid one is named `events[i]`.
 */
export function publishBatchHandler(ctx: RpcContext) {
  return unary<PublishBatchRequest__Output, PublishBatchResponse>(ctx, async (call) => {
    const caller = await ctx.resolveCaller(call.metadata);
    const reqs = call.request.events ?? [];
    const { maxBatchEvents, maxBatchBytes } = ctx.config;
    if (reqs.length === 0) throw new StreamgateError(status.INVALID_ARGUMENT, "events is empty");
    if (reqs.length > maxBatchEvents) {
      throw new StreamgateError(status.INVALID_ARGUMENT, `batch has ${reqs.length} events; the limit is ${maxBatchEvents}`, {
        [MAX_BATCH_EVENTS_TRAILER]: String(maxBatchEvents),
      });
    }
    const events = reqs.map(toNewEvent);
    const bytes = batchBytes(events);
    if (bytes > maxBatchBytes) {
      throw new StreamgateError(
        status.INVALID_ARGUMENT,
        `batch is ${bytes} bytes; the limit is ${maxBatchBytes} bytes per PublishBatch (STREAMGATE_MAX_BATCH_BYTES): send fewer events per batch`,
        { [MAX_BATCH_BYTES_TRAILER]: String(maxBatchBytes) },
      );
    }
    for (const [i, ev] of events.entries()) check(ctx, ev, `events[${i}]: `);
    return { cursors: await append(ctx, caller, events) };
  });
}

/** The tenant's publish rate, then the append (with a retention trim when one is due). */
async function append(ctx: RpcContext, caller: Caller, events: NewEvent[]): Promise<string[]> {
  ctx.publishRate.take(caller.tenantId, caller.tier, events.length);
  const keys = tenantKeys(ctx.config.keyPrefix, caller.tenantId);
  const trim = ctx.writeTrimmer.due(keys.events, caller.tier, events.length);
  const ids = await appendEvents(ctx.redis, keys, events, trim ? caller.tier : undefined);
  countPublished(caller.tenantId, events.length);
  return ids;
}
