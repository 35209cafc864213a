// One consumer-group member per system, each acknowledging every delivery the
// way a user of that system would: Streamgate's Consume stream (ack per
// delivery), Redis XREADGROUP + XACK, and a NATS JetStream durable pull
// consumer shared by the members.
import { Redis } from "ioredis";
import { type NatsConnection, connect as natsConnect } from "nats";
import { createClient } from "../../client-sdk/src/index.js";
import type { Histogram } from "../lib/histogram.js";
import { nowMs } from "../lib/workload.js";

export type MemberKind = "sdk" | "ioredis" | "nats";

export interface MemberJob {
  kind: MemberKind;
  name: string;
  total: number;
  address?: string;
  redisUrl?: string;
  streamKey?: string;
  group: string;
  natsUrl?: string;
  natsStream?: string;
  natsDurable?: string;
}

export interface Member {
  /** Deliveries per sequence number (more than 1: delivered twice to this member). */
  readonly seen: Uint8Array;
  received: number;
  /** When the last delivery arrived (nowMs). */
  lastAt: number;
  ready: Promise<void>;
  close(): Promise<void>;
}

function member(job: MemberJob, latency: Histogram): Member & { record(seq: number, sentAt: number): void } {
  const seen = new Uint8Array(job.total);
  const m = {
    seen,
    received: 0,
    lastAt: 0,
    ready: Promise.resolve(),
    close: async () => {},
    record(seq: number, sentAt: number) {
      m.received++;
      m.lastAt = nowMs();
      if (seq >= 0 && seq < job.total) {
        if (seen[seq] === 0) latency.record(m.lastAt - sentAt);
        seen[seq] = Math.min(255, (seen[seq] as number) + 1);
      }
    },
  };
  return m;
}

export function openMember(job: MemberJob, latency: Histogram): Member {
  const m = member(job, latency);
  switch (job.kind) {
    case "sdk": {
      const client = createClient({ address: job.address as string });
      const consumer = client.consume({ group: job.group, member: job.name, maxInFlight: 200 });
      m.ready = consumer.joined.then(() => undefined);
      const loop = (async () => {
        try {
          for await (const d of consumer) {
            m.record(Number(d.event.details.seq), Number(d.event.details.t));
            d.ack();
          }
        } catch {
          // The run's result reports what was missing.
        }
      })();
      m.close = async () => {
        consumer.close();
        await loop;
        client.close();
      };
      return m;
    }
    case "ioredis": {
      const redis = new Redis(job.redisUrl as string, { maxRetriesPerRequest: null });
      redis.on("error", () => {});
      let stopped = false;
      const key = job.streamKey as string;
      const loop = (async () => {
        while (!stopped) {
          let reply: [string, [string, string[]][]][] | null;
          try {
            reply = (await redis.xreadgroup("GROUP", job.group, job.name, "COUNT", 200, "BLOCK", 0, "STREAMS", key, ">")) as typeof reply;
          } catch {
            return;
          }
          const entries = reply?.[0]?.[1] ?? [];
          for (const [, fields] of entries) {
            const i = fields.indexOf("details");
            const d = JSON.parse(fields[i + 1] as string) as Record<string, string>;
            m.record(Number(d.seq), Number(d.t));
          }
          if (entries.length > 0) await redis.xack(key, job.group, ...entries.map(([id]) => id)).catch(() => {});
        }
      })();
      m.close = async () => {
        stopped = true;
        redis.disconnect();
        await loop;
      };
      return m;
    }
    case "nats": {
      let nc: NatsConnection | undefined;
      let stopped = false;
      const loop = (async () => {
        nc = await natsConnect({ servers: job.natsUrl as string });
        const js = nc.jetstream();
        while (!stopped) {
          const batch = js.fetch(job.natsStream as string, job.natsDurable as string, { batch: 200, expires: 200 });
          for await (const msg of batch) {
            const p = msg.json<{ details: Record<string, string> }>();
            m.record(Number(p.details.seq), Number(p.details.t));
            msg.ack();
          }
        }
      })().catch(() => {});
      m.close = async () => {
        stopped = true;
        await loop;
        await nc?.close();
      };
      return m;
    }
  }
}
