import { Metadata, type ServerWritableStream, status } from "@grpc/grpc-js";
import type { EventStreamRequest__Output } from "../../client-sdk/src/generated/kumiho/EventStreamRequest.js";
import { LAST_CURSOR_TRAILER, StreamgateError } from "../errors.js";
import type { EventSink } from "../fanout/sinks.js";
import { compileEventFilter } from "../filters/eventFilter.js";
import { tenantKeys } from "../redis/layout.js";
import { checkCursor } from "./checkCursor.js";
import type { RpcContext } from "./context.js";
import { startPosition } from "./startPosition.js";
import { toServiceError } from "./toServiceError.js";

type Call = ServerWritableStream<EventStreamRequest__Output, Buffer>;

/**
 * Response header naming the position a subscription started from: every event
 * strictly after this cursor is delivered. A client that has received no event
 * yet resumes from it without a gap (set for live and cursor starts on tiers
 * with cursor support).
 */
export const START_CURSOR_HEADER = "streamgate-start-cursor";

/**
 * Serves one subscription until the client leaves or the server ends it.
 * Response headers go out as soon as the subscription is registered, so a
 * client knows it is live without sleeping.
 */
export function eventStreamHandler(ctx: RpcContext, makeSink: (call: Call, includeCursor: boolean) => EventSink) {
  return (call: Call): void => {
    const abort = new AbortController();
    call.on("cancelled", () => abort.abort());
    call.on("error", () => abort.abort());
    serve(ctx, call, makeSink, abort.signal).catch((err: unknown) => {
      if (abort.signal.aborted) return;
      call.emit("error", toServiceError(err, ctx.log));
    });
  };
}

async function serve(
  ctx: RpcContext,
  call: Call,
  makeSink: (call: Call, includeCursor: boolean) => EventSink,
  signal: AbortSignal,
): Promise<void> {
  const caller = ctx.resolveCaller(call.metadata);
  const req = call.request;
  const filter = compileEventFilter(req.routingKeyFilter, req.krefFilter, ctx.config.maxFilterLength);
  if (typeof filter === "string") throw new StreamgateError(status.INVALID_ARGUMENT, filter);
  if (req.consumerGroup) {
    if (!caller.tier.supportsConsumerGroups) {
      throw new StreamgateError(
        status.PERMISSION_DENIED,
        `consumer_group needs consumer groups, which the ${caller.tier.name} tier does not include`,
      );
    }
    if (!ctx.features.consumerGroups)
      throw new StreamgateError(status.UNIMPLEMENTED, "consumer groups are not available on this server yet");
  }
  const start = startPosition(req, caller.tier);
  const keys = tenantKeys(ctx.config.keyPrefix, caller.tenantId);
  if (start.kind === "after") await checkCursor(ctx.redis, keys, start.id);
  const includeCursor = caller.tier.supportsCursor;
  const sub = await ctx.hub.subscribe(keys, caller.tenantId, {
    filter,
    sink: makeSink(call, includeCursor),
    start,
    includeCursor,
    maxQueue: ctx.config.subscriberQueue,
    pageSize: ctx.config.readBatch,
    signal,
  });
  if (signal.aborted) return;
  // Nothing can have been written yet: the feed dispatches and catch-up reads
  // resolve on later I/O turns, after this continuation, so the headers go first.
  const headers = new Metadata();
  if (includeCursor && sub.startedAfter !== undefined) headers.set(START_CURSOR_HEADER, sub.startedAfter);
  call.sendMetadata(headers);
  const err = await sub.done;
  if (signal.aborted) return;
  if (err) throw err;
  call.end();
}

/** The error a subscription ends with when the server shuts down: resume from its last cursor elsewhere. */
export function shuttingDown(lastCursor: string): StreamgateError {
  return new StreamgateError(status.UNAVAILABLE, `server is shutting down; resume from cursor ${lastCursor || "(none delivered)"}`, {
    [LAST_CURSOR_TRAILER]: lastCursor,
  });
}
