// Where a subscription's events go. Both sinks write bytes encoded once per
// event (FeedEvent.bytes); the batch sink also shares one frame among all
// subscribers that received the same matched list.
import { once } from "node:events";
import type { ServerWritableStream } from "@grpc/grpc-js";
import { fieldSize, writeVarint } from "../../client-sdk/src/wire/protobuf.js";
import type { FeedEvent } from "./feedEvent.js";

export interface EventSink {
  /** Writes events in order; false when the transport asks us to wait for "drain". */
  write(events: readonly FeedEvent[]): boolean;
  /** Resolves on "drain"; rejects with an AbortError once the signal aborts (grpc-js never drains a cancelled call). */
  drained(signal: AbortSignal): Promise<void>;
}

type Call = ServerWritableStream<unknown, Buffer>;

function drained(call: Call, signal: AbortSignal): Promise<void> {
  return once(call, "drain", { signal }).then(() => undefined);
}

/** kumiho.KumihoService/EventStream: one Event message per event. */
export function singleEventSink(call: Call, includeCursor: boolean): EventSink {
  return {
    write(events) {
      let ok = true;
      for (const ev of events) ok = call.write(ev.bytes(includeCursor));
      return ok;
    },
    drained: (signal) => drained(call, signal),
  };
}

/**
 * A frame holds at most this many bytes of events (and always at least one
 * event), far under the 4 MiB that gRPC clients accept by default, whatever the
 * size of the events.
 */
export const MAX_FRAME_BYTES = 1024 * 1024;
const framesWithCursor = new WeakMap<readonly FeedEvent[], Buffer[]>();
const framesWithoutCursor = new WeakMap<readonly FeedEvent[], Buffer[]>();

/**
 * The EventBatch frames (`repeated kumiho.Event events = 1`) for a list of events, built once
 * per list and shared by every subscriber it is offered to. Events are encoded straight into
 * the frame (see FeedEvent.writeTo), so a replayed page is encoded once and copied never.
 */
function frames(events: readonly FeedEvent[], includeCursor: boolean): Buffer[] {
  const cache = includeCursor ? framesWithCursor : framesWithoutCursor;
  let out = cache.get(events);
  if (out) return out;
  out = [];
  const sizes = events.map((ev) => ev.encodedSize(includeCursor));
  let first = 0;
  while (first < events.length) {
    // As many events as fit in MAX_FRAME_BYTES, and always at least one.
    let bytes = fieldSize(sizes[first] as number);
    let end = first + 1;
    while (end < events.length && bytes + fieldSize(sizes[end] as number) <= MAX_FRAME_BYTES) bytes += fieldSize(sizes[end++] as number);
    const frame = Buffer.allocUnsafe(bytes);
    let pos = 0;
    for (let i = first; i < end; i++) {
      frame[pos++] = 0x0a;
      pos = writeVarint(frame, pos, sizes[i] as number);
      pos = (events[i] as FeedEvent).writeTo(frame, pos, includeCursor);
    }
    out.push(frame);
    first = end;
  }
  cache.set(events, out);
  return out;
}

/** streamgate.v1.Streamgate/Subscribe: EventBatch frames. */
export function batchSink(call: Call, includeCursor: boolean): EventSink {
  return {
    write(events) {
      let ok = true;
      for (const frame of frames(events, includeCursor)) ok = call.write(frame);
      return ok;
    },
    drained: (signal) => drained(call, signal),
  };
}
