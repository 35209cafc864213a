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

/** Frames carry at most this many events, well under gRPC's 4 MB default message cap. */
const MAX_EVENTS_PER_FRAME = 512;
const framesWithCursor = new WeakMap<readonly FeedEvent[], Buffer>();
const framesWithoutCursor = new WeakMap<readonly FeedEvent[], Buffer>();

function frame(events: readonly FeedEvent[], includeCursor: boolean): Buffer {
  const cache = includeCursor ? framesWithCursor : framesWithoutCursor;
  let buf = cache.get(events);
  if (!buf) {
    buf = encodeEventBatch(events.map((e) => e.bytes(includeCursor)));
    cache.set(events, buf);
  }
  return buf;
}

/** streamgate.v1.Streamgate/Subscribe: EventBatch frames. */
export function batchSink(call: Call, includeCursor: boolean): EventSink {
  return {
    write(events) {
      if (events.length <= MAX_EVENTS_PER_FRAME) return call.write(frame(events, includeCursor));
      let ok = true;
      for (let i = 0; i < events.length; i += MAX_EVENTS_PER_FRAME) {
        ok = call.write(frame(events.slice(i, i + MAX_EVENTS_PER_FRAME), includeCursor));
      }
      return ok;
    },
    drained: (signal) => drained(call, signal),
  };
}
