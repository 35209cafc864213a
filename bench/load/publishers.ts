// Publishes events [0, total) to one system, at a fixed rate (a batch per
// tick) or as fast as it acknowledges (a window of batches in flight). Each
// event's details carry its sequence number and its send time.
import { Redis } from "ioredis";
import { JSONCodec, connect as natsConnect } from "nats";
import { createClient } from "../../client-sdk/src/index.js";
import { detailsOf, eventAt, natsSubjectOf, nowMs } from "../lib/workload.js";

/** grpc: Streamgate's (or the bare server's) Publish/PublishBatch through our SDK. */
export type PublisherKind = "grpc" | "ioredis" | "nats";

export interface PublishJob {
  kind: PublisherKind;
  address?: string;
  redisUrl?: string;
  streamKey?: string;
  natsUrl?: string;
  /** Publishes events [from, total). */
  from?: number;
  total: number;
  projects: number;
  /** Events per second; unset = as fast as acknowledged. */
  rate?: number;
  tickMs?: number;
  /** Events per call (max-rate mode). */
  batch: number;
  /** Calls in flight at once. */
  window: number;
  /** grpc: send the SDK's idempotency keys (its default); false sends none. */
  keys?: boolean;
}

export interface PublishResult {
  published: number;
  errors: number;
  firstError?: string;
  startedAt: number;
  endedAt: number;
}

type SendBatch = (seqs: number[]) => Promise<void>;

async function sender(job: PublishJob): Promise<{ send: SendBatch; close(): Promise<void> }> {
  const shape = (seq: number) => {
    const e = eventAt(seq, job.projects);
    return { e, details: detailsOf(seq) };
  };
  switch (job.kind) {
    case "grpc": {
      const client = createClient({ address: job.address as string, autoIdempotencyKeys: job.keys !== false });
      return {
        async send(seqs) {
          const events = seqs.map((s) => {
            const { e, details } = shape(s);
            return { routingKey: e.routingKey, kref: e.kref, author: "bench", details };
          });
          if (events.length === 1) await client.publish(events[0] as (typeof events)[0]);
          else await client.publishBatch(events);
        },
        async close() {
          client.close();
        },
      };
    }
    case "ioredis": {
      const redis = new Redis(job.redisUrl as string);
      return {
        async send(seqs) {
          const p = redis.pipeline();
          for (const s of seqs) {
            const { e, details } = shape(s);
            p.xadd(
              job.streamKey as string,
              "*",
              "routing_key",
              e.routingKey,
              "kref",
              e.kref,
              "author",
              "bench",
              "details",
              JSON.stringify(details),
            );
          }
          await p.exec();
        },
        async close() {
          redis.disconnect();
        },
      };
    }
    case "nats": {
      const nc = await natsConnect({ servers: job.natsUrl as string });
      const js = nc.jetstream();
      const codec = JSONCodec();
      return {
        async send(seqs) {
          await Promise.all(
            seqs.map((s) => {
              const { e, details } = shape(s);
              return js.publish(natsSubjectOf(e), codec.encode({ routingKey: e.routingKey, kref: e.kref, author: "bench", details }));
            }),
          );
        },
        async close() {
          await nc.close();
        },
      };
    }
  }
}

export async function publish(job: PublishJob): Promise<PublishResult> {
  const { send, close } = await sender(job);
  const result: PublishResult = { published: 0, errors: 0, startedAt: nowMs(), endedAt: 0 };
  const inFlight = new Set<Promise<void>>();
  const track = (seqs: number[]) => {
    const p = send(seqs).then(
      () => {
        result.published += seqs.length;
      },
      (err: unknown) => {
        result.errors += seqs.length;
        result.firstError ??= String((err as Error).message ?? err);
      },
    );
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  const from = job.from ?? 0;
  let next = from;
  if (job.rate) {
    const tickMs = job.tickMs ?? 5;
    const start = nowMs();
    while (next < job.total) {
      const due = Math.min(job.total, from + Math.floor(((nowMs() - start) / 1000) * job.rate) + 1);
      if (due > next) {
        const seqs: number[] = [];
        for (; next < due; next++) seqs.push(next);
        while (inFlight.size >= job.window) await Promise.race(inFlight);
        track(seqs);
      }
      await new Promise((r) => setTimeout(r, tickMs));
    }
  } else {
    while (next < job.total) {
      while (inFlight.size >= job.window) await Promise.race(inFlight);
      const seqs: number[] = [];
      for (const end = Math.min(job.total, next + job.batch); next < end; next++) seqs.push(next);
      track(seqs);
    }
  }
  await Promise.all(inFlight);
  result.endedAt = nowMs();
  await close();
  return result;
}
