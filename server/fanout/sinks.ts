// Where a subscription's events go. Both sinks write bytes encoded once per
// event (FeedEvent.bytes); the batch sink also shares one frame among all
// subscribers that received the same matched list.
import { once } from "node:events";
import type { ServerWritableStream } from "@grpc/grpc-js";
import { encodeEventBatch } from "../events/encodeEvent.js";
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

/** The EventBatch frames for a list of events, built once per list and shared by every subscriber it is offered to. */
function frames(events: readonly FeedEvent[], includeCursor: boolean): Buffer[] {
  const cache = includeCursor ? framesWithCursor : framesWithoutCursor;
  let out = cache.get(events);
  if (!out) {
    out = [];
    let part: Buffer[] = [];
    let bytes = 0;
    for (const ev of events) {
      const b = ev.bytes(includeCursor);
      if (part.length > 0 && bytes + b.length > MAX_FRAME_BYTES) {
        out.push(encodeEventBatch(part));
        part = [];
        bytes = 0;
      }
      part.push(b);
      bytes += b.length + 6; // tag and length prefix
    }
    if (part.length > 0) out.push(encodeEventBatch(part));
    cache.set(events, out);
  }
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
