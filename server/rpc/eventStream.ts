import { Metadata, type ServerWritableStream, status } from "@grpc/grpc-js";
import type { EventStreamRequest__Output } from "../../client-sdk/src/generated/kumiho/EventStreamRequest.js";
import { whenExpired } from "../auth/expiryTimer.js";
import { replayStart } from "../cursors/replayStart.js";
import { startPosition } from "../cursors/startPosition.js";
import { credentialsEnded, LAST_CURSOR_TRAILER, StreamgateError } from "../errors.js";
import type { EventSink } from "../fanout/sinks.js";
import { compileEventFilter } from "../filters/eventFilter.js";
import { callLog } from "../observability/requestLog.js";
import { tenantKeys } from "../redis/layout.js";
import type { RpcContext } from "./context.js";
import { startMember } from "./groupMembership.js";
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
    const end = (err: unknown) => {
      if (abort.signal.aborted) return;
      abort.abort();
      call.emit("error", toServiceError(err, ctx.log, call.metadata));
    };
    serve(ctx, call, makeSink, abort.signal, end).catch(end);
  };
}

async function serve(
  ctx: RpcContext,
  call: Call,
  makeSink: (call: Call, includeCursor: boolean) => EventSink,
  signal: AbortSignal,
  end: (err: StreamgateError) => void,
): Promise<void> {
  const caller = await ctx.resolveCaller(call.metadata);
  const req = call.request;
  const filter = compileEventFilter(req.routingKeyFilter, req.krefFilter, ctx.config.maxFilterLength);
  if (typeof filter === "string") throw new StreamgateError(status.INVALID_ARGUMENT, filter);
  if (req.consumerGroup) {
    // Kumiho's clients cannot acknowledge: a delivery counts once handed to the transport.
    const sink = makeSink(call, caller.tier.supportsCursor);
    const started = await startMember(ctx, caller, {
      group: req.consumerGroup,
      member: "",
      routingKeyFilter: req.routingKeyFilter,
      krefFilter: req.krefFilter,
      start: () => startPosition(req, caller.tier),
      maxInFlight: 0,
      maxDeliveries: 0,
      ackTimeoutMs: 0,
      autoAck: true,
      deliver: (deliveries) => sink.write(deliveries.map((d) => d.event)),
      drained: sink.drained,
      end,
      signal,
    });
    if (!signal.aborted) call.sendMetadata(new Metadata());
    await started.run(); // returns at once (releasing everything) if the client already left
    if (!signal.aborted) call.end();
    return;
  }
  const keys = tenantKeys(ctx.config.keyPrefix, caller.tenantId);
  const start = await replayStart(ctx.redis, keys, caller.tier, startPosition(req, caller.tier));
  const lease = await ctx.streamLeases.acquire(keys.streams, caller.tenantId, caller.tier);
  let cancelExpiry = () => {};
  try {
    const includeCursor = caller.tier.supportsCursor;
    const sub = await ctx.hub.subscribe(keys, caller.tenantId, {
      filter,
      sink: makeSink(call, includeCursor),
      start,
      includeCursor,
      maxQueue: ctx.config.subscriberQueue,
      maxQueueBytes: ctx.config.subscriberQueueBytes,
      pageSize: ctx.config.readBatch,
      pageBytes: ctx.config.readBytes,
      signal,
      owner: caller.keyId,
      log: () => callLog(ctx.log, call.metadata),
    });
    if (signal.aborted) return;
    cancelExpiry = whenExpired(caller.expiresAt, () => sub.close(credentialsEnded("the token expired", sub.lastSent)));
    // Nothing can have been written yet: the feed dispatches and catch-up reads
    // resolve on later I/O turns, after this continuation, so the headers go first.
    const headers = new Metadata();
    const startCursor = sub.startCursor;
    if (includeCursor && startCursor !== undefined) headers.set(START_CURSOR_HEADER, startCursor);
    call.sendMetadata(headers);
    const err = await sub.done;
    if (signal.aborted) return;
    if (err) throw err;
    call.end();
  } finally {
    cancelExpiry();
    lease.release();
  }
}

/** The error a subscription ends with when the server shuts down: resume from its last cursor elsewhere. */
export function shuttingDown(lastCursor: string): StreamgateError {
  const advice = lastCursor ? `resume from cursor ${lastCursor}` : "reconnect";
  return new StreamgateError(status.UNAVAILABLE, `server is shutting down; ${advice}`, {
    [LAST_CURSOR_TRAILER]: lastCursor,
  });
}
