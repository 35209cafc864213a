// One subscriber per system, each the way a user of that system would write it.
// Every one feeds a Tally with (seq, send time, stream order) per delivery.
import { credentials, type GrpcObject, loadPackageDefinition, type ServiceClientConstructor } from "@grpc/grpc-js";
import { fromJSON } from "@grpc/proto-loader";
import { Redis } from "ioredis";
import { consumerOpts, type NatsConnection, connect as natsConnect } from "nats";
import { descriptor } from "../../client-sdk/src/generated/descriptor.js";
import { createClient, type StreamgateClient } from "../../client-sdk/src/index.js";
import { naiveFilter } from "../lib/naiveFilter.js";
import { krefFilter, natsSubject, routingKeyFilter, type SubSpec } from "../lib/workload.js";
import { recordAtStreamId, type Tally } from "./tally.js";

/** sdk: our client (batched Subscribe); kumiho: a bare grpc-js Kumiho client, one message per event. */
export type SubscriberKind = "sdk" | "kumiho" | "ioredis" | "nats";

export interface Connection {
  address?: string;
  redisUrl?: string;
  streamKey?: string;
  natsUrl?: string;
  natsStream?: string;
}

export type Start = "live" | "beginning";

export interface Opened {
  /** Resolves once the subscriber is registered (for systems that say so; else at once). */
  ready: Promise<void>;
  close(): void;
}

/** Groups of subscribers share one channel/connection; `shared` is created once per group. */
export interface Group {
  open(spec: SubSpec, tally: Tally, start: Start): Opened;
  close(): Promise<void>;
}

// The bare Kumiho-style client gets the same flow-control window as our SDK, so that the load
// generator, not a 64 KiB HTTP/2 window, is what each server is measured with.
const CHANNEL = { "grpc.max_receive_message_length": 64 * 1024 * 1024, "grpc-node.flow_control_window": 1024 * 1024 };

function sdkGroup(c: Connection): Group {
  const client: StreamgateClient = createClient({ address: c.address as string, channelOptions: CHANNEL });
  return {
    open(spec, tally, start) {
      const sub = client.eventStream({
        routingKeyFilter: routingKeyFilter(spec),
        krefFilter: krefFilter(spec),
        ...(start === "beginning" ? { fromBeginning: true } : {}),
        resume: false,
      });
      void (async () => {
        try {
          for await (const e of sub) recordAtStreamId(tally, Number(e.details.seq), Number(e.details.t), e.cursor);
        } catch {
          // The run's result reports what was missing.
        }
      })();
      return { ready: sub.ready.then(() => undefined), close: () => sub.close() };
    },
    async close() {
      client.close();
    },
  };
}

interface RawEvent {
  details: Record<string, string>;
  cursor: string;
}

const KumihoService = (loadPackageDefinition(fromJSON(descriptor, { longs: String, defaults: true, oneofs: true })).kumiho as GrpcObject)
  .KumihoService as ServiceClientConstructor;

function kumihoGroup(c: Connection): Group {
  const client = new KumihoService(c.address as string, credentials.createInsecure(), CHANNEL);
  return {
    open(spec, tally, start) {
      const req = {
        routingKeyFilter: routingKeyFilter(spec),
        krefFilter: krefFilter(spec),
        ...(start === "beginning" ? { fromBeginning: true } : {}),
      };
      const call = (client as unknown as { EventStream: (r: unknown) => NodeJS.EventEmitter & { cancel(): void } }).EventStream(req);
      // Stream IDs from Streamgate, plain sequence numbers from the bare server.
      call.on("data", (e: RawEvent) => {
        if (e.cursor.includes("-")) recordAtStreamId(tally, Number(e.details.seq), Number(e.details.t), e.cursor);
        else tally.record(Number(e.details.seq), Number(e.details.t), Number(e.cursor));
      });
      call.on("error", () => {});
      return { ready: Promise.resolve(), close: () => call.cancel() };
    },
    async close() {
      client.close();
    },
  };
}

/** Raw ioredis: each subscriber blocks in XREAD on its own connection and filters client-side. */
function ioredisGroup(c: Connection): Group {
  const conns: Redis[] = [];
  return {
    open(spec, tally, start) {
      const redis = new Redis(c.redisUrl as string, { maxRetriesPerRequest: null });
      redis.on("error", () => {});
      conns.push(redis);
      const matches = naiveFilter(routingKeyFilter(spec), krefFilter(spec));
      let stopped = false;
      void (async () => {
        let last = start === "beginning" ? "0" : "$";
        while (!stopped) {
          let reply: [string, [string, string[]][]][] | null;
          try {
            reply = (await redis.xread("COUNT", 1000, "BLOCK", 0, "STREAMS", c.streamKey as string, last)) as typeof reply;
          } catch {
            return;
          }
          const entries = reply?.[0]?.[1] ?? [];
          for (const [id, fields] of entries) {
            let rk = "";
            let kref = "";
            let details = "";
            for (let i = 0; i < fields.length; i += 2) {
              if (fields[i] === "routing_key") rk = fields[i + 1] as string;
              else if (fields[i] === "kref") kref = fields[i + 1] as string;
              else if (fields[i] === "details") details = fields[i + 1] as string;
            }
            if (!matches(rk, kref)) continue;
            const d = JSON.parse(details) as Record<string, string>;
            recordAtStreamId(tally, Number(d.seq), Number(d.t), id);
          }
          const tail = entries[entries.length - 1];
          if (tail) last = tail[0];
        }
      })();
      return {
        ready: Promise.resolve(),
        close: () => {
          stopped = true;
          redis.disconnect();
        },
      };
    },
    async close() {
      for (const r of conns) r.disconnect();
    },
  };
}

/**
 * NATS JetStream: an ordered push consumer per subscriber with the filter as a
 * subject (the API nats-server 2.9 supports; the pull-based consumers API needs 2.10).
 */
function natsGroup(c: Connection): Group {
  let conn: Promise<NatsConnection> | undefined;
  const subs: { unsubscribe(): void }[] = [];
  return {
    open(spec, tally, start) {
      conn ??= natsConnect({ servers: c.natsUrl as string });
      let stop = () => {};
      const ready = (async () => {
        const nc = await conn;
        const subject = natsSubject(spec);
        const opts = consumerOpts();
        opts.orderedConsumer();
        opts.filterSubject(subject);
        if (start === "beginning") opts.deliverAll();
        else opts.deliverNew();
        const sub = await nc.jetstream().subscribe(subject, opts);
        subs.push(sub);
        stop = () => sub.unsubscribe();
        void (async () => {
          try {
            for await (const m of sub) {
              const p = m.json<{ details: Record<string, string> }>();
              tally.record(Number(p.details.seq), Number(p.details.t), m.seq);
            }
          } catch {
            // The run's result reports what was missing.
          }
        })();
      })();
      return { ready, close: () => stop() };
    },
    async close() {
      for (const s of subs) s.unsubscribe();
      if (conn) await (await conn).close();
    },
  };
}

export function subscriberGroup(kind: SubscriberKind, c: Connection): Group {
  switch (kind) {
    case "sdk":
      return sdkGroup(c);
    case "kumiho":
      return kumihoGroup(c);
    case "ioredis":
      return ioredisGroup(c);
    case "nats":
      return natsGroup(c);
  }
}
