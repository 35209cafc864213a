import { type ServerUnaryCall, type sendUnaryData, status } from "@grpc/grpc-js";
import type { PublishBatchRequest__Output } from "../../client-sdk/src/generated/streamgate/v1/PublishBatchRequest.js";
import type { PublishBatchResponse } from "../../client-sdk/src/generated/streamgate/v1/PublishBatchResponse.js";
import type { PublishRequest__Output } from "../../client-sdk/src/generated/streamgate/v1/PublishRequest.js";
import type { PublishResponse } from "../../client-sdk/src/generated/streamgate/v1/PublishResponse.js";
import { formatCursor } from "../cursors/cursor.js";
import { RETRY_AFTER_TRAILER, StreamgateError } from "../errors.js";
import { type Appended, appendEvents } from "../events/appendEvents.js";
import { batchBytes } from "../events/batchBytes.js";
import { type NewEvent, validateEvent } from "../events/validateEvent.js";
import { counters, countPublished } from "../observability/counters.js";
import { isCommandTimeout, isNotSent, isRedisUnavailable } from "../redis/isRedisUnavailable.js";
import { tenantKeys } from "../redis/layout.js";
import { idMillis } from "../redis/streamIds.js";
import { ReplicationTimeout, WriteInterrupted, WriterBusy } from "../redis/writer.js";
import { trimStream } from "../retention/trimStream.js";
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
    idempotencyKey: req.idempotencyKey ?? "",
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
    const { epoch, ids, duplicate } = await append(ctx, caller, [ev], batchBytes([ev]));
    const id = ids[0] as string;
    return { cursor: formatCursor(id, epoch), timestamp: new Date(idMillis(id)).toISOString(), duplicate: duplicate[0] as boolean };
  });
}

/**
 * All events or none: validated together, then appended in one atomic script. The batch's size is checked
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
    const { epoch, ids, duplicate } = await append(ctx, caller, events, bytes);
    return { cursors: ids.map((id) => formatCursor(id, epoch)), duplicate };
  });
}

/**
 * The tenant's publish rate, then the append on the writer connection (which bounds the bytes
 * waiting for Redis), with a retention trim when one is due. The trim is sent in the same turn,
 * so it is pipelined behind the append at no extra round trip (Redis serves the blocked shared
 * reader between the two, before anything is trimmed); it is not part of the publish's outcome:
 * the events are stored whether or not it succeeds.
 */
async function append(ctx: RpcContext, caller: Caller, events: NewEvent[], bytes: number): Promise<Appended> {
  ctx.publishRate.take(caller.tenantId, caller.tier, events.length);
  const keys = tenantKeys(ctx.config.keyPrefix, caller.tenantId);
  const trim = ctx.writeTrimmer.due(keys.events, caller.tier, events.length);
  const appended = await ctx.writer
    .run(bytes, (redis) => {
      const appending = appendEvents(redis, keys, events, ctx.config.dedupWindowMs);
      if (trim) {
        trimStream(redis, keys, caller.tier).catch((err: unknown) =>
          ctx.log.warn({ err, stream: keys.events }, "retention trim after a publish failed"),
        );
      }
      return appending;
    })
    .catch((err: unknown) => {
      throw appendFailed(err, events);
    });
  let duplicates = 0;
  for (const d of appended.duplicate) if (d) duplicates++;
  counters.publishDeduplicated += duplicates;
  countPublished(caller.tenantId, events.length - duplicates);
  return appended;
}

/**
 * An append that failed for want of Redis, as UNAVAILABLE with a retry hint, saying whether the
 * events may have been stored and what a retry does then. Anything else is passed on.
 */
function appendFailed(err: unknown, events: readonly NewEvent[]): unknown {
  let why: string;
  if (err instanceof WriterBusy)
    return new StreamgateError(status.UNAVAILABLE, `${err.message}; nothing was stored: retry shortly`, retrySoon);
  if (isNotSent(err)) return new StreamgateError(status.UNAVAILABLE, "Redis is unavailable; nothing was stored: retry shortly", retrySoon);
  if (err instanceof ReplicationTimeout) why = `the events are stored, but ${err.message} (STREAMGATE_WAIT_REPLICAS)`;
  else if (err instanceof WriteInterrupted) why = `the events may or may not have been stored: ${err.message}`;
  else if (isCommandTimeout(err))
    why = "the events may or may not have been stored: Redis did not answer within STREAMGATE_REDIS_TIMEOUT_MS";
  else if (isRedisUnavailable(err)) why = "the events may or may not have been stored: the connection to Redis failed";
  else return err;
  const keyed = events.every((e) => e.idempotencyKey);
  const advice = keyed
    ? "retry with the same idempotency keys: a repeat within the duplicate window is not stored twice"
    : "a retry without idempotency keys may store them twice (set idempotency_key to retry safely)";
  return new StreamgateError(status.UNAVAILABLE, `${why}; ${advice}`, retrySoon);
}

const retrySoon = { [RETRY_AFTER_TRAILER]: "100" };
